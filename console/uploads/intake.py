"""Taking in what a person sent for an upload: pictures, zip archives, CSV files of URLs, a list of URLs.

Everything sent is sorted into items (spooled pictures and URLs, each with the input id it will be posted
under) and refusals, each refusal naming the file, the archive entry or the line, and saying why. One bad
file, entry or line never stops the rest. Archives are expanded here, safely: an entry whose path is
absolute or climbs out with `..` is refused; reading stops at UPLOAD_MAX_EXPANDED_BYTES in all (whatever
the archive claims its sizes are) and at UPLOAD_MAX_FILE_BYTES a file, so a zip bomb costs at most that.
"""

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import IO, Any

from django.conf import settings

from console.clarifai.pictures import magic_type, picture_type
from console.uploads import spool

ID_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,254}$")
CONCEPT_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,254}$")
YES = {"", "1", "yes", "y", "true"}
NO = {"0", "no", "n", "false"}
PICTURES = "JPEG, PNG, GIF, WebP, BMP or AVIF"
MAX_ITEMS = 100_000  # files, entries and lines one upload takes; an archive of a million empty files stops here
MAX_LISTED = 1000  # refusals listed one by one; past that, counted


@dataclass
class Item:
    input_id: str
    source: str  # "file" or "url"
    name: str
    url: str = ""
    size: int = 0
    concepts: list[list[Any]] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class Rejection:
    name: str
    reason: str


@dataclass
class Intake:
    """What an upload took in, spooling each picture under its upload's key as it goes."""

    key: str
    items: list[Item] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    # Input ids given in a CSV's `id` column -> where, to name the first use when one comes again.
    given_ids: dict[str, str] = field(default_factory=dict)
    expanded: int = 0  # bytes read out of archives so far
    seen: int = 0  # files, entries and lines looked at
    unlisted: int = 0  # refusals past MAX_LISTED

    def next_id(self) -> str:
        return f"up-{self.key}-{len(self.items) + 1:05d}"

    def refuse(self, name: str, reason: str) -> None:
        if len(self.rejected) < MAX_LISTED:
            self.rejected.append(Rejection(name, reason))
        else:
            self.unlisted += 1

    def full(self, name: str, left: int) -> bool:
        """Counts one more file, entry or line; True (and says so) when the upload has taken all it may."""
        self.seen += 1
        if self.seen <= MAX_ITEMS:
            return False
        after = f" and the {left:,} after it were" if left else " was"
        self.refuse(name, f"An upload takes at most {MAX_ITEMS:,} files, entries and lines: this one{after} not added.")
        return True

    def refusals(self) -> list[dict[str, str]]:
        listed = [{"name": r.name, "reason": r.reason} for r in self.rejected]
        if self.unlisted:
            listed.append(
                {"name": "…", "reason": f"And {self.unlisted:,} more not uploaded (only {MAX_LISTED:,} are listed)."}
            )
        return listed

    def take(self, files: Iterable[Any], urls: str) -> "Intake":
        """Files (Django UploadedFiles: pictures, .zip, .csv) and URLs, one a line."""
        for upload in files:
            name = PurePosixPath(upload.name or "file").name
            suffix = PurePosixPath(name).suffix.lower()
            if suffix == ".zip":
                self.take_zip(name, upload)
            elif suffix == ".csv":
                self.take_csv(name, upload)
            elif not self.full(name, 0):
                self.take_picture(name, upload.size, upload)
        self.take_url_lines(urls)
        return self

    # --- Pictures ------------------------------------------------------------------------------------

    def take_picture(self, name: str, declared_size: int | None, source: IO[bytes]) -> None:
        limit = settings.UPLOAD_MAX_FILE_BYTES
        if declared_size is not None and declared_size > limit:
            self.refuse(name, too_large(declared_size))
            return
        data = source.read(limit + 1)
        self._picture(name, data)

    def _picture(self, name: str, data: bytes) -> None:
        if len(data) > settings.UPLOAD_MAX_FILE_BYTES:
            self.refuse(name, too_large(len(data)))
        elif not data:
            self.refuse(name, "The file is empty.")
        elif picture_type(data) is None:
            started_as = magic_type(data)
            if started_as:
                self.refuse(name, f"The file is an incomplete {started_as.removeprefix('image/').upper()} picture.")
            else:
                self.refuse(name, f"The file is not a picture ({PICTURES}).")
        else:
            item = Item(input_id=self.next_id(), source="file", name=name, size=len(data))
            spool.put(self.key, item.input_id, data)
            self.items.append(item)

    # --- Zip archives --------------------------------------------------------------------------------

    def take_zip(self, name: str, source: IO[bytes]) -> None:
        try:
            archive = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, OSError, ValueError):
            self.refuse(name, "The file is not a zip archive that can be read.")
            return
        with archive:
            entries = [e for e in archive.infolist() if not e.is_dir()]
            for n, entry in enumerate(entries):
                label = f"{name}: {entry.filename}"
                if self.full(label, len(entries) - n - 1):
                    return
                if unsafe_path(entry.filename):
                    self.refuse(label, "Refused: its path is absolute or climbs out of the archive's folder with '..'.")
                    continue
                base = PurePosixPath(entry.filename).name
                if entry.filename.startswith("__MACOSX/") or base.startswith("."):
                    continue  # what archivers add beside the files (resource forks, .DS_Store)
                if entry.flag_bits & 0x1:
                    self.refuse(label, "The entry is encrypted.")
                    continue
                budget = settings.UPLOAD_MAX_EXPANDED_BYTES - self.expanded
                try:
                    with archive.open(entry) as member:
                        # Never more than the limits allow, whatever size the archive says the entry has.
                        data = member.read(min(settings.UPLOAD_MAX_FILE_BYTES, budget) + 1)
                except (zipfile.BadZipFile, OSError, NotImplementedError, ValueError, EOFError) as e:
                    self.refuse(label, f"The entry cannot be read ({e}).")
                    continue
                if len(data) > budget:
                    left = len(entries) - n - 1
                    self.refuse(
                        label,
                        f"The archive expands past the limit of {settings.UPLOAD_MAX_EXPANDED_BYTES:,} bytes: "
                        f"this entry and the {left:,} after it were not added.",
                    )
                    self.expanded = settings.UPLOAD_MAX_EXPANDED_BYTES
                    return
                self.expanded += len(data)
                self._picture(label, data)

    # --- CSV and URLs --------------------------------------------------------------------------------

    def take_csv(self, name: str, source: IO[bytes]) -> None:
        try:
            text = source.read(settings.UPLOAD_MAX_FILE_BYTES + 1).decode("utf-8-sig")
        except UnicodeDecodeError:
            self.refuse(name, "The CSV file is not UTF-8 text.")
            return
        if len(text) > settings.UPLOAD_MAX_FILE_BYTES:
            self.refuse(name, too_large(len(text)))
            return
        reader = csv.DictReader(io.StringIO(text, newline=""))
        columns = [c.strip().lower() for c in reader.fieldnames or []]
        if "url" not in columns:
            found = ", ".join(f"'{c}'" for c in columns) or "none"
            self.refuse(name, f"The CSV file has no 'url' column (its columns: {found}); nothing in it was added.")
            return
        reader.fieldnames = columns
        try:
            for row in reader:
                if self.full(f"{name}, line {reader.line_num}", 0):
                    return
                self._csv_row(name, reader.line_num, row)
        except csv.Error as e:
            self.refuse(f"{name}, line {reader.line_num}", f"The CSV cannot be read from here on: {e}.")

    def _csv_row(self, name: str, line: int, row: dict[str, Any]) -> None:
        where = f"{name}, line {line}"
        if None in row:
            self.refuse(where, "The row has more cells than the header has columns.")
            return
        url = (row.get("url") or "").strip()
        try:
            check_url(url)
            concepts = parse_concepts(row.get("concepts") or "")
            metadata = parse_metadata(row.get("metadata") or "")
            input_id = (row.get("id") or "").strip()
            if input_id:
                check_input_id(input_id)
                if input_id in self.given_ids:
                    raise ValueError(f"The id {input_id!r} is already given on {self.given_ids[input_id]}.")
        except ValueError as e:
            self.refuse(where, str(e))
            return
        if input_id:
            self.given_ids[input_id] = where
        item = Item(
            input_id=input_id or self.next_id(),
            source="url",
            name=url,
            url=url,
            concepts=concepts,
            metadata=metadata,
        )
        self.items.append(item)

    def take_url_lines(self, text: str) -> None:
        for n, line in enumerate(text.splitlines(), start=1):
            url = line.strip()
            if not url:
                continue
            if self.full(f"URLs, line {n}", 0):
                return
            try:
                check_url(url)
            except ValueError as e:
                self.refuse(f"URLs, line {n}", str(e))
                continue
            self.items.append(Item(input_id=self.next_id(), source="url", name=url, url=url))


def too_large(size: int) -> str:
    return f"The file is over the size limit: {size:,} bytes, at most {settings.UPLOAD_MAX_FILE_BYTES:,}."


def unsafe_path(name: str) -> bool:
    """An archive entry that would land outside the folder it is expanded into."""
    parts = re.split(r"[/\\]", name)
    return name.startswith(("/", "\\")) or bool(re.match(r"^[A-Za-z]:", name)) or ".." in parts


def check_url(url: str) -> None:
    if not url:
        raise ValueError("The row has no URL.")
    if not re.match(r"^https?://[^\s/]+", url, re.IGNORECASE) or any(c.isspace() for c in url):
        raise ValueError(f"{url[:200]!r} is not an http or https URL.")


def check_input_id(input_id: str) -> None:
    if not ID_PATTERN.match(input_id):
        raise ValueError(f"{input_id[:100]!r} is not a valid input id (letters, digits, '_', '-', '.').")


def parse_concepts(text: str) -> list[list[Any]]:
    """`cat, dog:no` -> [["cat", 1.0], ["dog", 0.0]]: concept ids, each yes unless `:no` (or `:0`) follows."""
    concepts: dict[str, float] = {}
    for part in re.split(r"[,;]", text):
        part = part.strip()
        if not part:
            continue
        concept_id, _, value = part.partition(":")
        concept_id, value = concept_id.strip(), value.strip().lower()
        if not CONCEPT_ID.match(concept_id):
            raise ValueError(f"{concept_id[:100]!r} is not a concept id (letters, digits, '_', '-', '.').")
        if value in YES:
            concepts[concept_id] = 1.0
        elif value in NO:
            concepts[concept_id] = 0.0
        else:
            raise ValueError(f"{part[:100]!r}: after the colon, write yes or no.")
    return [[c, v] for c, v in concepts.items()]


def parse_metadata(text: str) -> dict[str, Any]:
    text = text.strip()
    if not text:
        return {}
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as e:
        raise ValueError(f"The metadata is not valid JSON ({e.msg} at character {e.pos + 1}).") from None
    except ValueError as e:
        raise ValueError(f"The metadata is not valid JSON ({e}).") from None
    if not isinstance(value, dict):
        raise ValueError('The metadata must be a JSON object, such as {"source": "camera"}.')
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")
