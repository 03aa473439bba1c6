"""File names for a person's files (chalicelib/my_files.py), checked and stored one way.

1-255 bytes of UTF-8 (what file systems allow), normalised to NFC (the same name
typed on macOS and Windows is one file), no "/" or "\\", no "..", no control
characters, no bidirectional overrides (they make "txt.exe" display as "exe.txt"),
no leading or trailing space. Any other Unicode is fine.
"""
from __future__ import annotations

from chalicelib.errors import ApiError, BadRequest

MAX_NAME_BYTES = 255
# Bidirectional formatting characters: they reorder how a name is displayed.
BIDI_CONTROLS = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def file_name(raw: object) -> str:
    """A file name as stored (NFC), or 400 BadFileName saying what is wrong with it."""
    import unicodedata  # only uploads and deletes need it, not every Lambda's cold start

    if not isinstance(raw, str) or raw == "":
        raise _bad_name("Give the file a name.")
    name = unicodedata.normalize("NFC", raw)
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:  # a lone surrogate, e.g. from a JSON "\ud800" escape
        raise _bad_name("The file name contains characters that are not valid text.") from None
    if size > MAX_NAME_BYTES:
        raise _bad_name(f"The file name is too long: at most {MAX_NAME_BYTES} bytes of UTF-8 "
                        f"({MAX_NAME_BYTES} Latin letters, fewer in other scripts).")
    if "/" in name or "\\" in name:
        raise _bad_name("A file name cannot contain / or \\.")
    if ".." in name or name == ".":
        raise _bad_name('A file name cannot be "." or contain "..".')
    if any(unicodedata.category(char) == "Cc" for char in name):
        raise _bad_name("A file name cannot contain control characters such as line breaks "
                        "or tabs.")
    if any(char in BIDI_CONTROLS for char in name):
        raise _bad_name("A file name cannot contain characters that change the direction of "
                        "text.")
    if name != name.strip():
        raise _bad_name("A file name cannot start or end with a space.")
    return name


def _bad_name(message: str) -> ApiError:
    return BadRequest(message, code="BadFileName")
