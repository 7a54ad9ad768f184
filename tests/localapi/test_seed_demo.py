"""`manage.py seed_demo` and console.localapi.demo: the demo is deterministic, idempotent and served by the API."""

import io
import json
from io import StringIO
from pathlib import Path
from typing import Any, TypedDict

import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from console.localapi import demo, dispatch, media, status
from console.localapi.models import App, Dataset, DatasetInput, Input, InputConcept, Token, User


class Sizes(TypedDict):
    shapes: int
    notes: int


SMALL: Sizes = {"shapes": 48, "notes": 12}


@pytest.fixture(autouse=True)
def _own_media_root(settings: Any, tmp_path: Path) -> None:
    # A fresh folder per test: the database rolls back after each test, files would not.
    settings.MEDIA_ROOT = tmp_path / "media"


def seed(**options: Any) -> str:
    out = StringIO()
    call_command("seed_demo", *[str(o) for o in options.pop("args", [])], stdout=out, **options)
    return out.getvalue()


def summary(app_id: str) -> list[dict[str, Any]]:
    rows = (
        Input.objects.filter(app__user_id=demo.DEMO_USER, app__app_id=app_id)
        .order_by("input_id")
        .prefetch_related("input_concepts__concept", "datasets")
    )
    return [
        {
            "id": i.input_id,
            "metadata": i.metadata,
            "status": i.status_code,
            "media_key": i.media_key,
            "size": (i.width, i.height),
            "concepts": sorted((c.concept.concept_id, c.value) for c in i.input_concepts.all()),
            "datasets": sorted(d.dataset_id for d in i.datasets.all()),
        }
        for i in rows
    ]


def colour_shares(data: bytes) -> dict[str, float]:
    """The share of the picture's pixels that are close to each demo colour."""
    shares = dict.fromkeys(demo.COLOURS, 0.0)
    with Image.open(io.BytesIO(data)) as image:
        rgb = image.convert("RGB")
        pixels = rgb.width * rgb.height
        counted = rgb.getcolors(maxcolors=pixels)
        assert counted is not None  # None only past maxcolors
        for count, colour in counted:
            assert isinstance(colour, tuple)  # an RGB picture's colours are (r, g, b)
            red, green, blue = colour
            for name, (r, g, b) in demo.COLOURS.items():
                if (red - r) ** 2 + (green - g) ** 2 + (blue - b) ** 2 < 60**2:
                    shares[name] += count / pixels
    return shares


def api_get(path: str, query: list[tuple[str, str]]) -> dispatch.Reply:
    _, secret = Token.issue(User.objects.get(id=demo.DEMO_USER))
    return dispatch.handle("GET", path, query, "Key " + secret, b"", "http://testserver")


@pytest.mark.django_db
def test_it_makes_the_demo() -> None:
    out = seed()

    assert "Demo data created for user demo" in out
    apps = {a.app_id: a for a in App.objects.filter(user_id="demo")}
    assert set(apps) == {"shapes", "notes", "sandbox"}
    assert all(a.description and a.metadata for a in apps.values())
    shapes = Input.objects.filter(app=apps["shapes"])
    assert shapes.count() == demo.SHAPE_INPUTS
    assert shapes.filter(kind=Input.IMAGE, status_code=status.INPUT_SUCCESS).count() == demo.SHAPE_INPUTS - 6
    failed = shapes.filter(status_code=status.INPUT_FAILED)
    assert failed.count() == 6
    assert all(f.status_details and f.source_url.startswith("https://images.example.com/") for f in failed)
    assert not shapes.filter(status_code__in=[status.INPUT_PENDING, status.INPUT_IN_PROGRESS]).exists()
    assert Input.objects.filter(app=apps["notes"], kind=Input.TEXT).exclude(text="").count() == demo.NOTE_INPUTS - 2
    assert set(apps["shapes"].datasets.values_list("dataset_id", flat=True)) == {"train", "test"}
    assert DatasetInput.objects.filter(dataset__app=apps["shapes"]).count() == demo.SHAPE_INPUTS - 6
    assert InputConcept.objects.filter(input__app=apps["shapes"], value=0).exists()


@pytest.mark.django_db
def test_it_is_idempotent() -> None:
    demo.seed_demo(**SMALL)
    before = summary("shapes"), summary("notes"), App.objects.count()

    out = seed()

    assert out.strip() == "Demo data already present (user demo, 3 apps)."
    assert (summary("shapes"), summary("notes"), App.objects.count()) == before


@pytest.mark.django_db
def test_it_is_deterministic() -> None:
    demo.seed_demo(**SMALL)
    first = summary("shapes"), summary("notes")
    App.objects.create(user_id="demo", app_id="made-by-hand")

    seeded = demo.seed_demo(reset=True, **SMALL)

    assert not seeded.already
    assert (summary("shapes"), summary("notes")) == first
    assert first[0][0]["id"] == "shape-0001"
    assert first[0][0]["metadata"] == {"split": "train", "source": "demo", "index": 1, "background": "paper"}
    assert not App.objects.filter(app_id="made-by-hand").exists()


@pytest.mark.django_db
def test_reset_deletes_the_old_media(media_root: Path) -> None:
    demo.seed_demo(**SMALL)
    old = App.objects.get(app_id="shapes").pk
    assert (media_root / media.app_folder(old)).is_dir()

    demo.seed_demo(reset=True, **SMALL)

    assert App.objects.get(app_id="shapes").pk != old
    assert not (media_root / media.app_folder(old)).exists()


@pytest.mark.django_db
def test_pictures_match_their_concepts() -> None:
    demo.seed_demo(**SMALL)
    items = Input.objects.filter(app__app_id="shapes", status_code=status.INPUT_SUCCESS).prefetch_related(
        "input_concepts__concept"
    )
    seen = set()
    for item in items:
        positive = {c.concept.concept_id for c in item.input_concepts.all() if c.value == 1}
        (colour,) = positive & set(demo.COLOURS)
        (shape,) = positive & set(demo.SHAPES)
        seen.add((shape, colour))
        for size in ("tiny", "orig"):
            shares = colour_shares(media.read(media.path(item.app_id, item.media_key, size)))
            assert max(shares, key=shares.__getitem__) == colour, (item.input_id, size, shares)
            assert shares[colour] > 0.02, (item.input_id, size, shares)
    assert len(seen) == len(demo.SHAPES) * len(demo.COLOURS)


@pytest.mark.django_db
def test_media_files_exist_for_every_size() -> None:
    demo.seed_demo(**SMALL)

    for item in Input.objects.filter(app__app_id="shapes", status_code=status.INPUT_SUCCESS):
        for size in media.SIZES:
            data = media.read(media.path(item.app_id, item.media_key, size))
            with Image.open(io.BytesIO(data)) as image:
                if size == "orig":
                    assert (image.width, image.height, image.format) == (item.width, item.height, item.image_format)
                else:
                    assert max(image.size) <= media.THUMBNAIL_SIZES[size]


@pytest.mark.django_db
def test_the_inputs_are_served_by_the_local_api() -> None:
    demo.seed_demo(**SMALL)

    reply = api_get("/v2/users/demo/apps/shapes/inputs", [("per_page", "5")])

    assert reply.status == 200
    body = json.loads(reply.body)
    assert body["status"]["code"] == status.SUCCESS
    inputs = body["inputs"]
    assert [i["id"] for i in inputs] == [f"shape-{n:04d}" for n in range(48, 43, -1)]
    first = inputs[0]
    assert first["data"]["metadata"]["source"] == "demo"
    assert {c["id"] for c in first["data"]["concepts"]} & set(demo.SHAPES)
    assert first["dataset_ids"]
    hosted = first["data"]["image"]["hosted"]
    picture = api_get(f"/v2/hosted/tiny/{hosted['suffix']}", [])
    assert picture.status == 200
    assert picture.content_type == "image/jpeg"


@pytest.mark.django_db
def test_the_failed_inputs_say_why() -> None:
    demo.seed_demo(**SMALL)

    reply = api_get("/v2/users/demo/apps/shapes/inputs/shape-0023", [])

    item = json.loads(reply.body)["input"]
    assert item["status"]["code"] == status.INPUT_FAILED
    assert "images.example.com" in item["status"]["details"]
    assert "hosted" not in item["data"]["image"]


@pytest.mark.django_db
def test_the_size_option_makes_that_many_inputs() -> None:
    out = seed(args=["--inputs", 300, "--app", "bench", "--pictures", 8, "--batch-size", 128])

    assert "Made app demo/bench: 300 inputs" in out
    app = App.objects.get(user_id="demo", app_id="bench")
    inputs = Input.objects.filter(app=app)
    assert inputs.count() == 300
    assert inputs.filter(status_code=status.INPUT_SUCCESS).count() == 300
    assert inputs.values("media_key").distinct().count() == 8
    assert InputConcept.objects.filter(input__app=app).values("input").distinct().count() == 300
    assert DatasetInput.objects.filter(input__app=app).count() == 300
    assert set(Dataset.objects.filter(app=app).values_list("dataset_id", flat=True)) == {"train", "test"}
    assert inputs.get(input_id="bench-000300").metadata["index"] == 300
    for key in inputs.values_list("media_key", flat=True).distinct():
        assert all(Path(media.path(app.pk, key, size)).name == size for size in media.SIZES)
        media.read(media.path(app.pk, key, "tiny"))


@pytest.mark.django_db
def test_the_size_option_is_idempotent_and_resets() -> None:
    seed(args=["--inputs", 50, "--app", "bench", "--pictures", 4])
    ids = summary("bench")

    assert "already has 50 inputs" in seed(args=["--inputs", 50, "--app", "bench", "--pictures", 4])
    with pytest.raises(CommandError, match="has 50 inputs, not 60"):
        seed(args=["--inputs", 60, "--app", "bench"])
    seed(args=["--inputs", 50, "--app", "bench", "--pictures", 4, "--reset"])

    assert summary("bench") == ids


@pytest.mark.django_db
def test_the_distinct_option_gives_every_input_a_picture_of_its_own() -> None:
    seed(args=["--inputs", 40, "--app", "bench", "--distinct"])

    app = App.objects.get(user_id="demo", app_id="bench")
    inputs = list(Input.objects.filter(app=app).order_by("id"))
    assert len({i.media_key for i in inputs}) == 40
    pictures = set()
    for item in inputs:
        hosted = api_get(f"/v2/hosted/tiny/apps/{app.pk}/inputs/image/{item.media_key}", [])
        assert hosted.status == 200
        assert hosted.content_type == "image/jpeg"
        with Image.open(io.BytesIO(hosted.body)) as image:
            assert image.size == (item.width, item.height)
            pictures.add(image.tobytes())
        assert all(media.read(media.path(app.pk, item.media_key, size)) == hosted.body for size in media.SIZES)
    assert len(pictures) == 40
