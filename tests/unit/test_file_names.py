"""The export's entry names (chalicelib/file_names.py archive_names): whatever a person stored
around the app, every entry is one plain file name that every common extractor writes inside
the folder it extracts to, and no two entries are the same file there."""
from __future__ import annotations

import io
import unicodedata
import zipfile
from pathlib import Path

import pytest

from chalicelib.file_names import (BIDI_CONTROLS, MAX_NAME_BYTES, WINDOWS_DEVICES,
                                   WINDOWS_RESERVED, archive_names, file_name)

HOSTILE = [
    "..\\..\\evil.txt", "../../evil.txt", "/etc/passwd", "C:\\Windows\\win.ini", "C:evil",
    "\\\\server\\share\\x", "a/b", "a/b/c.txt", "..", ".", "...", "a..b", "a/../b",
    "line\nbreak.txt", "tab\there", "nul\x00.txt", "del\x7f", "c1\x85", "bell\x07",
    "invoice\u202etxt.exe", "CON", "con.txt", "Nul.tar.gz", "COM1", "lpt9.log", "COM\u00b9",
    "CONIN$", "aux .txt", "trailing dot.", "trailing space ", " leading space", "what?.txt",
    "a<b>c:d\"e|f*g", "é" * 200 + ".txt", "x." + "e" * 300, "😀" * 100, "",
    "a.txt", "A.txt", "a (2).txt", unicodedata.normalize("NFD", "café.txt"), "café.txt",
]


def is_safe(entry: str) -> bool:
    stem = entry.split(".", 1)[0].rstrip(" ").upper()
    return (0 < len(entry.encode("utf-8")) <= MAX_NAME_BYTES
            and not any(c in WINDOWS_RESERVED or c in BIDI_CONTROLS
                        or unicodedata.category(c) in ("Cc", "Cs") for c in entry)
            and ".." not in entry and entry not in (".", "..")
            and entry == entry.strip() and not entry.endswith(".")
            and stem not in WINDOWS_DEVICES)


def test_every_hostile_name_becomes_one_safe_file_name():
    names = archive_names(HOSTILE)
    assert list(names) == list(dict.fromkeys(HOSTILE))
    unsafe = {name: entry for name, entry in names.items() if not is_safe(entry)}
    assert unsafe == {}


def test_no_two_entries_are_the_same_file_on_a_case_insensitive_disk():
    entries = list(archive_names(HOSTILE).values())
    folded = [unicodedata.normalize("NFC", e).casefold() for e in entries]
    assert len(set(folded)) == len(entries)


@pytest.mark.parametrize("stored, entry", [
    ("..\\..\\evil.txt", "____evil.txt"),
    ("a/b", "a_b"),
    ("line\nbreak.txt", "line_break.txt"),
    ("CON", "_CON"),
    ("con.txt", "_con.txt"),
    ("..", "_"),
    (".", "file"),
    ("trailing dot.", "trailing dot"),
    ("report.final.pdf", "report.final.pdf"),
    (".profile", ".profile"),
])
def test_what_a_name_becomes(stored, entry):
    assert archive_names([stored]) == {stored: entry}


def test_a_taken_name_gets_a_number_before_its_extension():
    assert list(archive_names(["a.txt", "A.txt", "a/txt", "a\\txt"]).values()) == \
        ["a.txt", "A (2).txt", "a_txt", "a_txt (2)"]


def test_a_cut_name_keeps_its_extension_and_whole_characters():
    [entry] = archive_names(["é" * 200 + ".txt"]).values()
    assert entry.endswith(".txt") and set(entry[:-4]) == {"é"}
    assert len(entry.encode("utf-8")) <= MAX_NAME_BYTES


@pytest.mark.parametrize("name", ["a" * 255, "日本" * 42, "file.tar.gz", ".profile",
                                  "name with spaces", "👩‍💻 emoji with ZWJ.txt", "%41 not %2F.txt"])
def test_a_name_the_app_accepts_without_windows_reserved_characters_is_kept(name):
    assert archive_names([file_name(name)]) == {name: name}


def test_extracting_the_entries_writes_only_plain_files_inside_the_folder(tmp_path: Path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for stored, entry in archive_names(HOSTILE).items():
            archive.writestr(f"files/{entry}", stored.encode("utf-8", "replace"))
    folder = tmp_path / "out"
    zipfile.ZipFile(buffer).extractall(folder)
    written = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert len(written) == len(set(HOSTILE))
    assert all(p.parent == folder / "files" for p in written)
