"""Reading the environment for what is not a plain value: the secret key (from
a file, with the keys it replaces) and the object store of the media. Used by
the settings and by the backup tool, which must work before Django does, so
nothing here imports Django's settings."""

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured


def read_secret(name: str) -> str:
    """The value of the variable `name`, or the content of the file named by
    `<name>_FILE` (a mounted secret, the same on every host); "" if neither."""
    value = os.environ.get(name, "")
    path = os.environ.get(f"{name}_FILE", "")
    if value and path:
        raise ImproperlyConfigured(f"Set {name} or {name}_FILE, not both.")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as error:
            raise ImproperlyConfigured(f"{name}_FILE: {error}") from error
    return value


def secret_keys() -> tuple[str, list[str]]:
    """The secret key and the older ones still accepted while they are
    rotated out (SECRET_KEY_FALLBACKS, comma-separated, or its _FILE, one per
    line)."""
    fallbacks = read_secret("SECRET_KEY_FALLBACKS")
    return read_secret("SECRET_KEY"), [
        key.strip() for key in fallbacks.replace(",", "\n").splitlines() if key.strip()
    ]


@dataclass(frozen=True)
class ObjectStore:
    """An S3-compatible bucket, from MEDIA_STORAGE_URL:
    `s3://KEY:SECRET@host[:port]/bucket[?region=fr-par]` (https), or
    `s3+http://…` for a store on the local network or loopback."""

    endpoint_url: str
    bucket: str
    access_key: str
    secret_key: str
    region: str

    @classmethod
    def parse(cls, url: str) -> "ObjectStore":
        parts = urlsplit(url)
        schemes = {"s3": "https", "s3+https": "https", "s3+http": "http"}
        bucket = parts.path.strip("/")
        if parts.scheme not in schemes or not parts.hostname or not bucket:
            raise ImproperlyConfigured(
                "MEDIA_STORAGE_URL must read s3://KEY:SECRET@host[:port]/bucket "
                "(or s3+http:// on a local network)."
            )
        port = f":{parts.port}" if parts.port else ""
        region = parse_qs(parts.query).get("region", ["us-east-1"])[0]
        return cls(
            endpoint_url=f"{schemes[parts.scheme]}://{parts.hostname}{port}",
            bucket=bucket,
            access_key=unquote(parts.username or ""),
            secret_key=unquote(parts.password or ""),
            region=region,
        )

    def client(self):
        """A boto3 client of the store (the backup tool's)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
            config=Config(
                connect_timeout=2, read_timeout=30, retries={"max_attempts": 2}
            ),
        )


def media_store() -> ObjectStore | None:
    url = os.environ.get("MEDIA_STORAGE_URL", "")
    return ObjectStore.parse(url) if url else None
