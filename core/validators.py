"""Validators every text field of the portal shares."""

import re

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

# C0 control characters but tab, line feed and carriage return, DEL, and the two
# non-characters: XML (the Atom feeds) cannot carry them, and no one types them.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


@deconstructible
class NoControlCharacters:
    """Refuse invisible control characters, naming the first one found."""

    code = "control_character"

    def __call__(self, value):
        found = CONTROL_CHARACTERS.search(str(value))
        if found:
            raise ValidationError(
                "Ce texte contient un caractère de contrôle invisible "
                "(%(character)s), souvent venu d'un copier-coller : "
                "supprimez-le puis envoyez à nouveau.",
                code=self.code,
                params={"character": f"U+{ord(found.group()):04X}"},
            )

    def __eq__(self, other):
        return isinstance(other, NoControlCharacters)


no_control_characters = NoControlCharacters()


def strip_control_characters(text: str) -> str:
    """Remove control characters from text written before they were refused."""
    return CONTROL_CHARACTERS.sub("", text)
