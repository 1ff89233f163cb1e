"""Where uploaded media live: the local disk (MEDIA_ROOT, `make run`), or an
S3-compatible object store shared by every host (MEDIA_STORAGE_URL). Either
way the portal serves them itself under MEDIA_URL (core/views.py's media
view, with the sandbox headers): the bucket stays private, never listed."""

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.utils.encoding import filepath_to_uri
from storages.backends.s3 import S3Storage

# What saving or reading a stored file raises when the store does not answer.
STORAGE_ERRORS = (OSError, BotoCoreError, ClientError)


class MediaStorage(S3Storage):
    """The object store of the media: private objects, never overwritten (the
    names are random), linked through the portal."""

    default_acl = None
    file_overwrite = False
    querystring_auth = False

    def __init__(self, **options):
        # A store that does not answer fails the request in seconds, not minutes.
        options.setdefault(
            "client_config",
            Config(connect_timeout=2, read_timeout=10, retries={"max_attempts": 2}),
        )
        super().__init__(**options)

    def url(self, name, *args, **kwargs):
        return settings.MEDIA_URL + filepath_to_uri(name)


def is_missing(error: Exception) -> bool:
    """Tell whether a storage error says the file is not there (a 404 of the
    store), rather than that the store does not answer."""
    if isinstance(error, FileNotFoundError):
        return True
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        return code in ("404", "NoSuchKey", "NotFound")
    return False
