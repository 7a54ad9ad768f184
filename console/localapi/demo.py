"""The local API's demo data: user `demo` with generated pictures and notes, and large apps for benchmarks.

Everything here is deterministic: the same seed makes the same ids, concepts, metadata and pictures, so
two machines (or two runs after a reset) show the same demo. Rows are written with bulk_create and media
files straight into storage, without Celery or HTTP, so seeding a fresh machine takes seconds.

- `seed_demo()` makes the standard demo: `shapes` (pictures of coloured shapes, labelled with their shape
  and colour, split into `train` and `test` datasets, a few failed imports), `notes` (short text notes
  labelled by kind) and `sandbox` (empty).
- `seed_large()` makes one app with many image inputs for benchmarks. Rendering 100,000 pictures would
  take too long, so it renders a small pool once and lets the inputs share its media keys (the model
  allows that); each input still has its own id, metadata and concepts. With `distinct`, every input
  gets a picture and media key of its own instead: a tiny picture made in microseconds, so a lookup by
  media key costs what it would cost with real data.
"""

import hashlib
import io
import math
import os
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import product

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from PIL import Image, ImageDraw

from console.localapi import media, status
from console.localapi.models import Annotation, App, Concept, Dataset, DatasetInput, Input, InputConcept, User

DEMO_USER = "demo"
SEED = 20240601

SHAPES = {
    "circle": "A round shape.",
    "square": "A shape with four equal sides and four right angles.",
    "triangle": "A shape with three sides.",
    "star": "A five-pointed star.",
}
# Colours far apart in hue, so that a picture's colour can be told from its pixels.
COLOURS = {
    "red": (214, 39, 40),
    "green": (44, 160, 44),
    "blue": (31, 90, 220),
    "yellow": (250, 204, 20),
    "purple": (140, 60, 200),
}
# Neutral backgrounds (top and bottom of a vertical gradient): they never look like one of the colours.
BACKGROUNDS = {
    "white": ((252, 252, 252), (232, 232, 232)),
    "paper": ((246, 243, 236), (226, 221, 210)),
    "grey": ((214, 214, 216), (168, 168, 172)),
    "slate": ((76, 80, 88), (40, 42, 48)),
    "night": ((30, 30, 34), (8, 8, 10)),
}
PICTURE_SIZES = [(640, 480), (480, 640), (800, 600), (600, 600), (720, 405), (512, 384), (400, 400), (960, 540)]

SHAPES_APP = "shapes"
NOTES_APP = "notes"
SANDBOX_APP = "sandbox"
DEMO_APPS = (SHAPES_APP, NOTES_APP, SANDBOX_APP)
SHAPE_INPUTS = 360
NOTE_INPUTS = 90
TEST_SHARE = 0.2

# Inputs of the shapes app that "failed to import": index -> (URL, reason as tasks._fail words it).
_FAILED_SHAPES = {
    23: ("https://images.example.com/shapes/0023.png", "could not connect to images.example.com: timed out"),
    87: ("https://images.example.com/shapes/0087.png", "the server answered HTTP 404 for {url}"),
    142: ("https://images.example.com/shapes/0142.jpg", "fetching took longer than 10 seconds"),
    205: (
        "https://images.example.com/shapes/0205.gif",
        "{unsupported}: the bytes are not an image (JPEG, PNG, GIF, WebP, BMP or TIFF)",
    ),
    266: ("https://images.example.com/shapes/0266.png", "the file is 31,457,280 bytes, over the limit of {limit}"),
    331: ("https://images.example.com/shapes/0331.png", "the server answered HTTP 403 for {url}"),
}
_FAILED_NOTES = {
    31: ("https://notes.example.com/export/0031.txt", "the server answered HTTP 404 for {url}"),
    64: ("https://notes.example.com/export/0064.txt", "could not connect to notes.example.com: timed out"),
}

NOTE_KINDS = {
    "praise": "The writer is happy with something.",
    "complaint": "The writer is unhappy with something.",
    "question": "The writer asks how to do something.",
    "bug": "Something does not work as it should.",
    "feature-request": "The writer asks for something new.",
    "urgent": "Needs an answer today.",
}
_NOTE_SUBJECTS = [
    "export",
    "search",
    "dashboard",
    "labeling view",
    "upload page",
    "dataset list",
    "mobile app",
    "API",
    "billing page",
    "keyboard shortcuts",
]
_NOTE_TEMPLATES = {
    "praise": [
        "The new {s} is great, it saves me an hour a day.",
        "Thanks for fixing the {s} so quickly, it works perfectly now.",
        "Really like how fast the {s} is since the last update.",
    ],
    "complaint": [
        "The {s} is far too slow when there are many inputs.",
        "I find the {s} confusing: I never know where to click.",
        "Since yesterday the {s} logs me out every few minutes.",
    ],
    "question": [
        "How do I use the {s} with more than one dataset?",
        "Is there a way to undo a change in the {s}?",
        "Can the {s} be used by a labeler, or only by admins?",
    ],
    "bug": [
        "The {s} shows an empty page after I go back in the browser.",
        "Clicking save in the {s} twice creates two copies.",
        "The {s} crashes when a concept name has an accent: café.",
    ],
    "feature-request": [
        "Please add a dark mode to the {s}.",
        "It would help if the {s} could filter by date.",
        "Could the {s} remember my last filter?",
    ],
}
_NOTE_CHANNELS = ["email", "chat", "survey", "phone"]


@dataclass(frozen=True)
class PictureSpec:
    """What a generated picture shows; `seed` fixes where and how the shape is drawn."""

    shape: str
    colour: str
    background: str
    width: int
    height: int
    format: str
    seed: int


@dataclass
class StoredPicture:
    media_key: str
    width: int
    height: int
    format: str
    mode: str


@dataclass
class Seeded:
    """What a seeding call did: the apps it made (or found) and how many inputs they hold."""

    apps: list[str]
    inputs: int
    already: bool = False
    seconds: float = 0.0
    details: dict[str, int] = field(default_factory=dict)
    # The labeling demo's users and a new token of each (the console keeps them; they are shown nowhere).
    tokens: dict[str, str] = field(default_factory=dict)


class DemoError(Exception):
    pass


Progress = Callable[[int, int], None]


# Pictures


def plan_pictures(rng: random.Random, count: int) -> list[PictureSpec]:
    """`count` pictures covering every shape and colour evenly, in a shuffled but fixed order."""
    combos = list(product(SHAPES, COLOURS))
    specs: list[PictureSpec] = []
    while len(specs) < count:
        rng.shuffle(combos)
        for shape, colour in combos[: count - len(specs)]:
            width, height = rng.choice(PICTURE_SIZES)
            specs.append(
                PictureSpec(
                    shape=shape,
                    colour=colour,
                    background=rng.choice(list(BACKGROUNDS)),
                    width=width,
                    height=height,
                    format="JPEG" if rng.random() < 0.25 else "PNG",
                    seed=rng.getrandbits(32),
                )
            )
    return specs


def _polygon(shape: str, cx: float, cy: float, r: float, angle: float) -> list[tuple[float, float]]:
    corners = {"square": 4, "triangle": 3, "star": 10}[shape]
    points = []
    for k in range(corners):
        radius = r * 0.45 if shape == "star" and k % 2 else r
        theta = angle + 2 * math.pi * k / corners - math.pi / 2
        points.append((cx + radius * math.cos(theta), cy + radius * math.sin(theta)))
    return points


def render(spec: PictureSpec) -> bytes:
    """Draw the picture (at twice the size, then halved, for smooth edges) and encode it."""
    rng = random.Random(spec.seed)
    scale = 2
    w, h = spec.width * scale, spec.height * scale
    top, bottom = BACKGROUNDS[spec.background]
    gradient = Image.linear_gradient("L").resize((w, h))
    image = Image.composite(Image.new("RGB", (w, h), bottom), Image.new("RGB", (w, h), top), gradient)
    draw = ImageDraw.Draw(image)
    r = min(w, h) * rng.uniform(0.26, 0.4)
    cx = rng.uniform(r * 1.1, w - r * 1.1)
    cy = rng.uniform(r * 1.1, h - r * 1.1)
    angle = rng.uniform(0, 2 * math.pi) if spec.shape != "star" else rng.uniform(-0.3, 0.3)
    base = COLOURS[spec.colour]
    fill = tuple(max(0, min(255, c + rng.randint(-12, 12))) for c in base)
    outline = tuple(int(c * 0.7) for c in fill)
    shadow_offset = r * 0.06
    shadow = tuple(int(c * 0.75) for c in bottom)
    width_px = max(2, int(r * 0.04))
    for dx, colour, edge in ((shadow_offset, shadow, shadow), (0.0, fill, outline)):
        if spec.shape == "circle":
            box = (cx - r + dx, cy - r + dx, cx + r + dx, cy + r + dx)
            draw.ellipse(box, fill=colour, outline=edge, width=width_px)
        else:
            points = [(x + dx, y + dx) for x, y in _polygon(spec.shape, cx, cy, r, angle)]
            draw.polygon(points, fill=colour, outline=edge, width=width_px)
    image = image.reduce(scale)
    out = io.BytesIO()
    if spec.format == "JPEG":
        image.save(out, "JPEG", quality=90)
    else:
        image.save(out, "PNG")
    return out.getvalue()


def media_key_for(data: bytes) -> str:
    """A key made from the picture's bytes: the same picture always gets the same key."""
    return hashlib.sha256(data).hexdigest()[:32]


def store_picture(app: App, decoded: media.Decoded, media_key: str) -> StoredPicture:
    """Write a decoded picture's files (every size) under the app's media folder."""
    for size, content in decoded.files.items():
        media.put(media.path(app.pk, media_key, size), content)
    return StoredPicture(media_key, decoded.width, decoded.height, decoded.format, decoded.mode)


def _decode_all(specs: list[PictureSpec]) -> list[tuple[str, media.Decoded]]:
    decoded = []
    for spec in specs:
        data = render(spec)
        decoded.append((media_key_for(data), media.decode(data)))
    return decoded


DISTINCT_SIZE = (64, 48)  # smaller than the smallest thumbnail, so every size holds the same picture


def tiny_picture(n: int) -> bytes:
    """Picture number `n` of a distinct set: two colours and a bar placed from `n`'s hash, as a JPEG."""
    h = hashlib.blake2b(n.to_bytes(8, "big"), digest_size=9).digest()
    width, height = DISTINCT_SIZE
    image = Image.new("RGB", DISTINCT_SIZE, (h[0], h[1], h[2]))
    x = h[6] % (width - 8)
    image.paste((h[3], h[4], h[5]), (x, 0, x + 8, height))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def store_tiny_picture(app: App, data: bytes, media_key: str) -> None:
    """Write a tiny picture as every size. A picture smaller than every thumbnail is its own thumbnail,
    so the sizes are hard links to one file where the storage is a folder (one write, not four)."""
    try:
        first = default_storage.path(media.path(app.pk, media_key, "orig"))
    except NotImplementedError:  # not a folder on this machine: write each size through the storage
        for size in media.SIZES:
            media.put(media.path(app.pk, media_key, size), data)
        return
    folder = os.path.dirname(first)
    os.makedirs(folder, exist_ok=True)
    with open(first, "wb") as f:
        f.write(data)
    for size in media.THUMBNAIL_SIZES:
        target = os.path.join(folder, size)
        if os.path.exists(target):
            os.remove(target)
        os.link(first, target)


# Rows


def demo_user() -> User:
    user, _ = User.objects.get_or_create(
        id=DEMO_USER, defaults={"first_name": "Demo", "last_name": "User", "email": "demo@example.com"}
    )
    return user


def _concepts(app: App, definitions: dict[str, str], group: str) -> dict[str, Concept]:
    rows = [
        Concept(
            app=app,
            concept_id=concept_id,
            name=concept_id.replace("-", " "),
            language=app.default_language,
            definition=definition,
            metadata={"group": group, "source": "demo"},
        )
        for concept_id, definition in definitions.items()
    ]
    return {c.concept_id: c for c in Concept.objects.bulk_create(rows)}


def _shape_labels(rng: random.Random, spec: PictureSpec) -> dict[str, float]:
    """The picture's shape and colour (1), and sometimes another shape or colour it is not (0)."""
    labels = {spec.shape: 1.0, spec.colour: 1.0}
    if rng.random() < 0.3:
        labels[rng.choice([s for s in SHAPES if s != spec.shape])] = 0.0
    if rng.random() < 0.3:
        labels[rng.choice([c for c in COLOURS if c != spec.colour])] = 0.0
    return labels


def _split(rng: random.Random) -> str:
    return "test" if rng.random() < TEST_SHARE else "train"


def _failure(template: str, url: str) -> str:
    return template.format(
        url=url,
        unsupported=status.description(status.INPUT_UNSUPPORTED_FORMAT),
        limit=f"{settings.LOCALAPI_MAX_IMAGE_BYTES:,} bytes",
    )


def _link(
    inputs: list[Input],
    labels: list[dict[str, float]],
    concepts: dict[str, Concept],
    datasets: list[list[Dataset]],
    batch_size: int,
) -> None:
    InputConcept.objects.bulk_create(
        [
            InputConcept(input=item, concept=concepts[cid], value=value)
            for item, values in zip(inputs, labels, strict=True)
            for cid, value in values.items()
        ],
        batch_size=batch_size,
    )
    DatasetInput.objects.bulk_create(
        [DatasetInput(dataset=d, input=item) for item, ds in zip(inputs, datasets, strict=True) for d in ds],
        batch_size=batch_size,
    )


def _render_shapes(rng: random.Random, count: int) -> tuple[list[PictureSpec], list[tuple[str, media.Decoded]]]:
    """The shapes app's pictures, rendered and decoded (inputs that failed to import have none)."""
    specs = plan_pictures(rng, count)
    return specs, _decode_all([s for n, s in enumerate(specs, 1) if n not in _FAILED_SHAPES])


def _make_shapes(
    user: User, rng: random.Random, specs: list[PictureSpec], pictures: list[tuple[str, media.Decoded]]
) -> App:
    """The shapes app's rows; the caller writes the pictures' files once the app has its pk."""
    app = App.objects.create(
        user=user,
        app_id=SHAPES_APP,
        name="Shapes and colours",
        description="Generated pictures of circles, squares, triangles and stars in five colours.",
        notes="Each picture is labelled with its shape and colour (value 1) and sometimes with a shape or colour "
        "it is not (value 0). A few inputs failed to import, to show what failures look like.",
        metadata={"source": "demo", "kind": "image", "shapes": list(SHAPES), "colours": list(COLOURS)},
    )
    concepts = _concepts(app, SHAPES, "shape") | _concepts(app, {c: f"Mostly {c} pixels." for c in COLOURS}, "colour")
    train = Dataset.objects.create(
        app=app, dataset_id="train", description="Pictures to train on (about 80%).", metadata={"split": "train"}
    )
    test = Dataset.objects.create(
        app=app,
        dataset_id="test",
        description="Pictures held back for evaluation (about 20%).",
        metadata={"split": "test"},
    )
    stored = iter(pictures)
    inputs: list[Input] = []
    labels: list[dict[str, float]] = []
    datasets: list[list[Dataset]] = []
    for n, spec in enumerate(specs, 1):
        split = _split(rng)
        item = Input(
            app=app,
            input_id=f"shape-{n:04d}",
            kind=Input.IMAGE,
            metadata={"split": split, "source": "demo", "index": n, "background": spec.background},
        )
        if n in _FAILED_SHAPES:
            url, reason = _FAILED_SHAPES[n]
            item.source_url, item.status_code, item.status_details = url, status.INPUT_FAILED, _failure(reason, url)
            datasets.append([])
        else:
            key, decoded = next(stored)
            item.media_key, item.status_code = key, status.INPUT_SUCCESS
            item.width, item.height = decoded.width, decoded.height
            item.image_format, item.color_mode = decoded.format, decoded.mode
            datasets.append([train if split == "train" else test])
        inputs.append(item)
        labels.append(_shape_labels(rng, spec))
    Input.objects.bulk_create(inputs, batch_size=1000)
    _link(inputs, labels, concepts, datasets, 1000)
    return app


def _make_notes(user: User, rng: random.Random, count: int) -> App:
    app = App.objects.create(
        user=user,
        app_id=NOTES_APP,
        name="Customer notes",
        description="Short notes from customers, labelled by what kind of note they are.",
        metadata={"source": "demo", "kind": "text"},
    )
    concepts = _concepts(app, NOTE_KINDS, "kind")
    triaged = Dataset.objects.create(
        app=app, dataset_id="triaged", description="Notes someone has read and labelled.", metadata={}
    )
    inputs, labels, datasets = [], [], []
    for n in range(1, count + 1):
        kind = rng.choice(list(_NOTE_TEMPLATES))
        subject = rng.choice(_NOTE_SUBJECTS)
        item = Input(
            app=app,
            input_id=f"note-{n:04d}",
            kind=Input.TEXT,
            metadata={"source": "demo", "index": n, "channel": rng.choice(_NOTE_CHANNELS)},
        )
        values = {kind: 1.0}
        if kind in ("bug", "complaint"):
            values["urgent"] = 1.0 if rng.random() < 0.4 else 0.0
        if n in _FAILED_NOTES:
            url, reason = _FAILED_NOTES[n]
            item.source_url, item.status_code, item.status_details = url, status.INPUT_FAILED, _failure(reason, url)
        else:
            item.text = rng.choice(_NOTE_TEMPLATES[kind]).format(s=subject)
            item.status_code = status.INPUT_SUCCESS
        inputs.append(item)
        labels.append(values)
        datasets.append([triaged] if item.status_code == status.INPUT_SUCCESS and rng.random() < 0.7 else [])
    Input.objects.bulk_create(inputs, batch_size=1000)
    _link(inputs, labels, concepts, datasets, 1000)
    return app


def _make_sandbox(user: User) -> App:
    return App.objects.create(
        user=user,
        app_id=SANDBOX_APP,
        name="Sandbox",
        description="An empty app to try uploads and labels in.",
        metadata={"source": "demo"},
    )


def demo_present() -> int | None:
    """How many apps the demo user has if the demo was seeded, else None."""
    apps = App.objects.filter(user_id=DEMO_USER, deleted=False)
    if not apps.filter(app_id__in=DEMO_APPS).exists():
        return None
    return apps.count()


def seed_demo(reset: bool = False, shapes: int = SHAPE_INPUTS, notes: int = NOTE_INPUTS) -> Seeded:
    """Make the standard demo, unless it is there already; `reset` deletes the demo user's apps first.

    The pictures are rendered before the transaction opens, so the database is locked only for the
    writes; if the writes fail, the files already written are deleted again.
    """
    started = time.monotonic()
    if reset:
        reset_user(DEMO_USER)
    present = demo_present()
    if present is not None:
        return Seeded(apps=list(DEMO_APPS), inputs=0, already=True, details={"apps": present})
    rng = random.Random(SEED)
    specs, pictures = _render_shapes(rng, shapes)
    written: list[int] = []
    try:
        with transaction.atomic():
            user = demo_user()
            shapes_app = _make_shapes(user, rng, specs, pictures)
            written.append(shapes_app.pk)
            for key, decoded in pictures:
                store_picture(shapes_app, decoded, key)
            _make_notes(user, rng, notes)
            _make_sandbox(user)
            tokens = _make_labeling(shapes_app)
    except BaseException:
        for app_pk in written:  # the rows are gone with the transaction; their files go too
            media.delete_tree(media.app_folder(app_pk))
        raise
    return Seeded(
        apps=list(DEMO_APPS),
        inputs=shapes + notes,
        seconds=time.monotonic() - started,
        details={"pictures": len(pictures), "apps": len(DEMO_APPS)},
        tokens=tokens,
    )


# The labeling demo: a task over the shapes app's test dataset, some of it done


LABELERS = {"maya": ("Maya", "Labeler"), "noah": ("Noah", "Labeler")}
REVIEWERS = {"rita": ("Rita", "Reviewer")}
DEMO_TASK = "shape-check"
DEMO_LABELING = "demo labeling"  # the description of the labeling demo's tokens
# What each labeler has done: (inputs approved, rejected, awaiting review); their next inputs are pending.
_DONE = {"maya": (3, 1, 2), "noah": (2, 0, 3)}


def _make_labeling(app: App) -> dict[str, str]:
    """Users for two labelers and a reviewer, each with a new token, and a task on the shapes: PARTITIONED
    evenly between the labelers, reviewed by hand. Each labeler has had some work approved, one answer
    rejected (maya's: the wrong shape), and some waiting for the reviewer."""
    from console.localapi import labeling
    from console.localapi.models import Task, TaskMember, Token

    tokens = {}
    for user_id, (first, last) in (LABELERS | REVIEWERS).items():
        user, _ = User.objects.update_or_create(
            id=user_id, defaults={"first_name": first, "last_name": last, "email": f"{user_id}@example.com"}
        )
        Token.objects.filter(user=user, description=DEMO_LABELING).delete()
        tokens[user_id] = Token.issue(user, description=DEMO_LABELING)[1]
    task = Task.objects.create(
        app=app,
        task_id=DEMO_TASK,
        name="Check the shapes",
        description="Mark the shape in each picture: circle, square, triangle or star.",
        task_type=labeling.CONCEPTS_CLASSIFICATION,
        input_source_type=labeling.DATASET,
        dataset=app.datasets.get(dataset_id="test"),
        input_source_id="test",
        concept_ids=list(SHAPES),
        worker_strategy=labeling.PARTITIONED,
        workers_per_input=1,
        review_strategy=labeling.REVIEW_MANUAL,
        created_by=app.user_id,
    )
    task.app = app
    TaskMember.objects.bulk_create(
        [TaskMember(task=task, user_id=u, role=TaskMember.WORKER, position=n) for n, u in enumerate(LABELERS)]
        + [TaskMember(task=task, user_id=u, role=TaskMember.REVIEWER, position=n) for n, u in enumerate(REVIEWERS)]
    )
    reviewer = User.objects.get(id=next(iter(REVIEWERS)))
    shapes = {
        link.input_id: link.concept.concept_id
        for link in InputConcept.objects.filter(
            input__app=app, value=1, concept__concept_id__in=list(SHAPES)
        ).select_related("concept")
    }
    for user_id, (approved, rejected, waiting) in _DONE.items():
        worker = User.objects.get(id=user_id)
        given = labeling.next_assignments(task, worker)
        done = given[: approved + rejected + waiting]
        for n, assignment in enumerate(done):
            truth = shapes.get(assignment.input_id, "circle")
            wrong = approved <= n < approved + rejected
            answer = next(s for s in SHAPES if s != truth) if wrong else truth
            Annotation.objects.create(
                app=app,
                input_id=assignment.input_id,
                annotation_id=f"demo-{user_id}-{n + 1}",
                task=task,
                user=worker,
                data={"concepts": [{"id": answer, "value": 1.0}]},
                status_code=status.ANNOTATION_PENDING,
            )
        labeling.submit(task, done)
        labeling.review(task, reviewer, done[:approved], "approve", {})
        reasons = {a.assignment_id: "Look again: the outline has a different number of corners." for a in done}
        labeling.review(task, reviewer, done[approved : approved + rejected], "reject", reasons)
    return tokens


# Large apps for benchmarks


def seed_large(
    app_id: str,
    count: int,
    pictures: int = 64,
    batch_size: int = 5000,
    reset: bool = False,
    progress: Progress | None = None,
    distinct: bool = False,
) -> Seeded:
    """Make app `app_id` of the demo user with `count` image inputs sharing `pictures` distinct pictures,
    or with `distinct`, each with a tiny picture of its own (`tiny_picture`; `pictures` then only
    chooses the shape and colour labels).

    Inputs are `<app_id>-000001`... with metadata {split, source, index, picture}, one shape and one colour
    each (sometimes a negative), and in the `train` or `test` dataset. Each batch is its own transaction.
    An app that already has exactly `count` inputs is left alone; one with another number needs `reset`.
    """
    started = time.monotonic()
    user = demo_user()
    existing = App.objects.filter(user=user, app_id=app_id, deleted=False).first()
    if existing is not None and reset:
        delete_app(existing)
        existing = None
    if existing is not None:
        have = Input.objects.filter(app=existing).count()
        if have == count:
            return Seeded(apps=[app_id], inputs=count, already=True)
        raise DemoError(f"App {DEMO_USER}/{app_id} has {have:,} inputs, not {count:,}.")
    if pictures < 1:
        raise DemoError("The pool needs at least one picture.")
    with transaction.atomic():
        app = App.objects.create(
            user=user,
            app_id=app_id,
            name=f"Benchmark ({count:,} inputs)",
            description=f"{count:,} image inputs, each with a picture of its own, for benchmarks."
            if distinct
            else f"{count:,} image inputs sharing {pictures} generated pictures, for benchmarks.",
            metadata={"source": "demo", "kind": "image", "inputs": count, "pictures": count if distinct else pictures},
        )
        concepts = _concepts(app, SHAPES, "shape") | _concepts(
            app, {c: f"Mostly {c} pixels." for c in COLOURS}, "colour"
        )
        split_datasets = {
            split: Dataset.objects.create(app=app, dataset_id=split, metadata={"split": split})
            for split in ("train", "test")
        }
    rng = random.Random(f"{SEED}:{app_id}")
    specs = plan_pictures(rng, pictures)
    pool = [] if distinct else [store_picture(app, decoded, key) for key, decoded in _decode_all(specs)]
    width = max(6, len(str(count)))
    done = 0
    for start in range(0, count, batch_size):
        inputs, labels, datasets = [], [], []
        for n in range(start + 1, min(start + batch_size, count) + 1):
            k = rng.randrange(pictures)
            spec, split = specs[k], _split(rng)
            if distinct:
                data = tiny_picture(n)
                # The key is the input's own (two tiny pictures may encode to the same bytes).
                key = hashlib.blake2b(f"{app_id}/{n}".encode(), digest_size=16).hexdigest()
                picture = StoredPicture(key, *DISTINCT_SIZE, "JPEG", "RGB")
                store_tiny_picture(app, data, picture.media_key)
            else:
                picture = pool[k]
            inputs.append(
                Input(
                    app=app,
                    input_id=f"{app_id}-{n:0{width}d}",
                    kind=Input.IMAGE,
                    status_code=status.INPUT_SUCCESS,
                    media_key=picture.media_key,
                    width=picture.width,
                    height=picture.height,
                    image_format=picture.format,
                    color_mode=picture.mode,
                    metadata={"split": split, "source": "demo", "index": n, "picture": n if distinct else k},
                )
            )
            labels.append(_shape_labels(rng, spec))
            datasets.append([split_datasets[split]])
        with transaction.atomic():
            Input.objects.bulk_create(inputs, batch_size=batch_size)
            _link(inputs, labels, concepts, datasets, batch_size)
        done += len(inputs)
        if progress:
            progress(done, count)
    return Seeded(apps=[app_id], inputs=count, seconds=time.monotonic() - started, details={"pictures": pictures})


# Deleting


def _input_batches(app: App, size: int = 2000) -> Iterator[list[int]]:
    while batch := list(Input.objects.filter(app=app).values_list("pk", flat=True)[:size]):
        yield batch


def delete_app(app: App) -> None:
    """Delete an app with its rows and media at once (the API's DeleteApp leaves that to a worker)."""
    for batch in _input_batches(app):
        with transaction.atomic():
            InputConcept.objects.filter(input_id__in=batch).delete()
            DatasetInput.objects.filter(input_id__in=batch).delete()
            Input.objects.filter(pk__in=batch).delete()
    media.delete_tree(media.app_folder(app.pk))
    app.delete()


def reset_user(user_id: str) -> int:
    """Delete every app of a local API user, including apps deleted but not purged yet; the user stays."""
    apps = list(App.objects.filter(user_id=user_id))
    for app in apps:
        delete_app(app)
    return len(apps)
