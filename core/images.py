"""Safe intake of an uploaded image.

Django's ImageField decodes with every Pillow plugin and keeps the file as sent: a tiny
PNG declaring 144 megapixels, a PNG with HTML appended or a photo full of GPS metadata
would all pass. Here an image is checked before and while it is decoded, then re-encoded
from its pixels alone under a random name, its size known without reading it again.

Decoding costs seconds of CPU and hundreds of megabytes for a large image: a form
decodes only once every other field is valid (`sanitize_field`), so that a form sent
again and again with a wrong field never decodes anything.
"""

import io
import secrets
import struct
import warnings

from django import forms
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.files.base import ContentFile, File
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, ImageFile, ImageOps

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_SIDE = 2048
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")

MESSAGES = {
    "too_large": "L'image dépasse 10 Mo.",
    "empty": "Le fichier envoyé est vide.",
    "not_an_image": "Ce fichier n'est pas une image JPEG, PNG ou WebP lisible.",
    "too_many_pixels": "L'image est trop grande (plus de 40 mégapixels).",
    "animated": "Les images animées ne sont pas acceptées.",
    "corrupt": "L'image est endommagée ou incomplète.",
    "not_checked": "L'image sera vérifiée une fois les autres champs corrigés : "
    "choisissez-la à nouveau.",
}

# What Pillow raises on data it cannot decode; UnidentifiedImageError is an OSError.
DECODING_ERRORS = (
    OSError,
    ValueError,
    SyntaxError,
    struct.error,
    EOFError,
    TypeError,
    IndexError,
    KeyError,
    ZeroDivisionError,
)
SIXTEEN_BIT_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N")
ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")


def refusal(code: str) -> ValidationError:
    """Build the error for `code`, with its French message."""
    return ValidationError(MESSAGES[code], code=code)


class ImageContent(ContentFile):
    """A re-encoded image, with its size in pixels."""

    def __init__(self, content: bytes, name: str, width: int, height: int):
        super().__init__(content, name=name)
        self.width, self.height = width, height


def sanitize_image(upload: File) -> ImageContent:
    """Check an uploaded image and return it re-encoded, without metadata.

    Raise ValidationError when the file is too large, empty, not a JPEG, PNG or WebP
    image, above MAX_PIXELS, animated or corrupt. Nothing is written to disk.
    """
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        # Pillow would then fill a truncated image with grey instead of failing.
        raise ImproperlyConfigured("sanitize_image needs LOAD_TRUNCATED_IMAGES off.")
    if upload.size > MAX_UPLOAD_BYTES:
        raise refusal("too_large")
    upload.seek(0)
    # Read at most one byte past the limit: `size` is not trusted to tell the truth.
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    if not data:
        raise refusal("empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise refusal("too_large")
    image = decode(data)
    return encode(image)


def decode(data: bytes) -> Image.Image:
    """Decode an image with the JPEG, PNG and WebP decoders only, then bring it upright
    and to RGB (or RGBA when it has transparency), at most MAX_SIDE pixels a side."""
    # The warning filter is process-wide, not per thread: should another request
    # reset it, the MAX_PIXELS check still refuses what the warning would have.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
            # The header is read, not the pixels: refuse before allocating them.
            if image.width * image.height > MAX_PIXELS:
                raise refusal("too_many_pixels")
            # A multi-picture JPEG (3D camera, phone depth or gain map) shows its
            # first picture, as any viewer does; PNG and WebP frames are animations.
            if image.format != "MPO" and getattr(image, "n_frames", 1) > 1:
                raise refusal("animated")
            image.load()
            image = ImageOps.exif_transpose(image)
            if image.mode in SIXTEEN_BIT_MODES:
                # convert("L") would clip every value above 255 to white.
                image = image.convert("I").point(lambda value: value / 256)
                image = image.convert("L")
            has_alpha = image.mode in ALPHA_MODES or "transparency" in image.info
            image = image.convert("RGBA" if has_alpha else "RGB")
            if has_alpha and image.getchannel("A").getextrema() == (255, 255):
                image = image.convert("RGB")
            image.thumbnail((MAX_SIDE, MAX_SIDE))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise refusal("too_many_pixels") from error
        except Image.UnidentifiedImageError as error:
            raise refusal("not_an_image") from error
        except DECODING_ERRORS as error:
            raise refusal("corrupt") from error
    return image


def encode(image: Image.Image) -> ImageContent:
    """Write the pixels alone under a random name: JPEG, or PNG with transparency."""
    # A new image has no info to carry over: no EXIF, ICC profile, XMP, comment or
    # PNG text chunk reaches the file.
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    buffer = io.BytesIO()
    if clean.mode == "RGBA":
        clean.save(buffer, "PNG")
        extension = "png"
    else:
        clean.save(buffer, "JPEG", quality=85, optimize=True, progressive=True)
        extension = "jpg"
    name = f"{secrets.token_hex(16)}.{extension}"
    return ImageContent(buffer.getvalue(), name, clean.width, clean.height)


class SafeImageField(forms.FileField):
    """A file field for an image, checked cheaply when cleaned (size), then
    decoded and re-encoded by `sanitize_field()` from the form's clean(), once
    every other field is valid. It leaves out ImageField's own check, which
    decodes with every Pillow plugin."""

    widget = forms.ClearableFileInput(
        attrs={"accept": "image/jpeg,image/png,image/webp"}
    )

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "help_text",
            "JPEG, PNG ou WebP, 10 Mo et 40 mégapixels au plus ; l'image est "
            "ramenée à 2048 pixels de côté au plus et ses métadonnées (dont la "
            "position GPS) sont effacées.",
        )
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        value = super().clean(data, initial)
        if isinstance(value, UploadedFile) and value.size > MAX_UPLOAD_BYTES:
            raise refusal("too_large")
        return value


def sanitize_field(form: forms.BaseForm, name: str = "image") -> None:
    """From a form's clean(): replace a new upload in `name` by its re-encoded
    image (ImageContent), or give the field its error. Nothing is decoded while
    another field has an error: the visitor is asked to choose the image again."""
    value = form.cleaned_data.get(name)
    if not isinstance(value, UploadedFile):
        return
    if form.errors:
        form.add_error(name, refusal("not_checked"))
        return
    try:
        form.cleaned_data[name] = sanitize_image(value)
    except ValidationError as error:
        form.add_error(name, error)
