"""The upload page and its job, over the built-in connection (the job runs in the test process): pictures,
zip archives, CSV files and URLs become inputs; what cannot be uploaded is listed, one line each, and
the rest goes in; the spool keeps only what a retry may need."""

import json
import os
import time
from pathlib import Path
from typing import Any

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from console.connections.models import Connection
from console.jobs import services as jobs
from console.jobs.models import Job
from console.localapi.models import DatasetInput, Input
from console.uploads import intake, services
from console.uploads.models import Upload
from tests.images import jpeg, png
from tests.jobs.conftest import concepts_of, run
from tests.uploads.conftest import Post, job_of, last_upload, rejected, zipped


def inputs_of(app_id: str) -> set[str]:
    return set(Input.objects.filter(app__app_id=app_id).values_list("input_id", flat=True))


def test_the_page_has_a_drop_zone_and_posts_without_javascript(
    console: Client, local: Connection, gallery: str
) -> None:
    html = console.get(reverse("uploads:new", args=[local.pk, gallery])).content.decode()
    assert 'enctype="multipart/form-data"' in html and 'method="post"' in html
    assert 'type="file" name="file"' in html and "multiple" in html and "data-dropzone" in html
    assert "/static/js/upload.js" in html and "<script>" not in html and " on" + "click=" not in html
    assert '<option value="train">train</option>' in html
    grid = console.get(reverse("inputs:grid", args=[local.pk, gallery])).content.decode()
    assert reverse("uploads:new", args=[local.pk, gallery]) in grid


def test_pictures_a_zip_a_csv_and_urls_become_inputs_with_what_the_whole_upload_sets(
    post_upload: Post, local: Connection, gallery: str, spool_dir: Path
) -> None:
    csv = (
        "url,concepts,metadata,id\n"
        'http://127.0.0.1:9/a.jpg,"cat, dog:no","{""source"": ""row"", ""row"": 1}",from-csv\n'
    )
    response = post_upload(
        files={
            "one.png": png(),
            "two.jpg": jpeg(),
            "three.png": png(30, 20, "green"),
            "more.zip": zipped({"inside/four.png": png(10, 10), "five.jpg": jpeg(12, 12)}),
            "list.csv": csv.encode(),
        },
        urls="http://127.0.0.1:9/b.jpg\n\n",
        concepts="star",
        metadata='{"source": "upload", "batch": 7}',
        dataset_id="train",
    )
    upload = last_upload()
    assert response.status_code == 302 and response["Location"] == reverse("uploads:detail", args=[local.pk, upload.pk])
    assert upload.rejected == []
    job = job_of(upload)
    assert job.state == Job.DONE and job.kind == Job.UPLOAD_INPUTS
    assert job.describe() == "Upload 5 files and 2 URLs"
    assert (job.progress().done, job.progress().failed) == (7, 0)
    ids = inputs_of(gallery)
    assert len(ids) == 7 and "from-csv" in ids
    assert all(i == "from-csv" or i.startswith(f"up-{upload.key}-") for i in ids)
    row = Input.objects.get(app__app_id=gallery, input_id="from-csv")
    assert row.metadata == {"source": "row", "batch": 7, "row": 1}  # the row's own keys win
    assert concepts_of(gallery, "from-csv") == {"star": 1.0, "cat": 1.0, "dog": 0.0}
    assert DatasetInput.objects.filter(dataset__dataset_id="train", input__app__app_id=gallery).count() == 7
    assert Input.objects.filter(app__app_id=gallery, source_url="").count() == 5  # the files, as bytes

    page = Client()
    page.force_login(job.started_by)  # type: ignore[arg-type]
    html = page.get(response["Location"]).content.decode()
    assert "7 inputs queued" in html and reverse("jobs:detail", args=[local.pk, job.pk]) in html

    assert len(list((spool_dir / upload.key).iterdir())) == 5  # until a worker's look cleans the spool
    services.clean_spool()
    assert not (spool_dir / upload.key).exists()
    assert Upload.objects.get(pk=upload.pk).spool_removed_at is not None


def test_zip_entries_with_dot_dot_or_absolute_paths_are_refused_and_the_rest_go_in(
    post_upload: Post, gallery: str, spool_dir: Path
) -> None:
    archive = zipped(
        {
            "../escape.png": png(),
            "/etc/absolute.png": png(),
            "a/../../up.png": png(),
            "C:/windows.png": png(),
            "fine/ok.png": png(),
            "__MACOSX/._ok.png": b"\x00\x05",
        }
    )
    post_upload(files={"pack.zip": archive, "loose.png": png()})
    upload = last_upload()
    reasons = rejected(upload)
    for name in ("../escape.png", "/etc/absolute.png", "a/../../up.png", "C:/windows.png"):
        assert "absolute or climbs out of the archive's folder" in reasons[f"pack.zip: {name}"]
    assert len(reasons) == 4
    assert len(inputs_of(gallery)) == 2
    assert not list(spool_dir.parent.glob("escape.png")) and not list(spool_dir.rglob("*.png"))


def test_an_archive_that_expands_past_the_limit_stops_there_and_keeps_what_came_before(
    post_upload: Post, gallery: str, settings: Any
) -> None:
    settings.UPLOAD_MAX_EXPANDED_BYTES = 1024 * 1024
    settings.UPLOAD_MAX_FILE_BYTES = 64 * 1024 * 1024
    bomb = zipped({"a.png": png(), "b.png": png(), "zeros.png": b"\x00" * (50 * 1024 * 1024), "c.png": png()})
    assert len(bomb) < 200 * 1024
    post_upload(files={"bomb.zip": bomb})
    reasons = rejected(last_upload())
    assert reasons == {
        "bomb.zip: zeros.png": "The archive expands past the limit of 1,048,576 bytes: "
        "this entry and the 1 after it were not added."
    }
    assert len(inputs_of(gallery)) == 2


def test_not_pictures_empty_files_and_files_over_the_limit_are_refused_one_by_one(
    post_upload: Post, gallery: str, settings: Any
) -> None:
    settings.UPLOAD_MAX_FILE_BYTES = 10_000
    big = png(400, 400, "white") + b"\x00" * 10_000
    post_upload(
        files={
            "notes.txt": b"hello",
            "empty.png": b"",
            "big.png": big,
            "cut.jpg": jpeg()[:200],
            "ok.png": png(),
            "inner.zip": zipped({"empty.jpg": b"", "page.html": b"<html></html>", "good.png": png()}),
        }
    )
    reasons = rejected(last_upload())
    assert reasons == {
        "notes.txt": "The file is not a picture (JPEG, PNG, GIF, WebP, BMP or AVIF).",
        "empty.png": "The file is empty.",
        "big.png": f"The file is over the size limit: {len(big):,} bytes, at most 10,000.",
        "cut.jpg": "The file is an incomplete JPEG picture.",
        "inner.zip: empty.jpg": "The file is empty.",
        "inner.zip: page.html": "The file is not a picture (JPEG, PNG, GIF, WebP, BMP or AVIF).",
    }
    assert len(inputs_of(gallery)) == 2


def test_a_csv_without_a_url_column_is_refused_whole_and_the_other_files_go_in(
    post_upload: Post, local: Connection, gallery: str, console: Client
) -> None:
    response = post_upload(files={"links.csv": b"link,concepts\nhttp://x.example/a.jpg,cat\n", "ok.png": png()})
    upload = last_upload()
    assert rejected(upload) == {
        "links.csv": "The CSV file has no 'url' column (its columns: 'link', 'concepts'); nothing in it was added."
    }
    assert len(inputs_of(gallery)) == 1
    html = console.get(response["Location"]).content.decode()
    assert "links.csv" in html and "has no &#x27;url&#x27; column" in html


def test_csv_rows_with_bad_metadata_or_a_repeated_id_are_reported_by_line_and_the_good_rows_go_in(
    post_upload: Post, gallery: str
) -> None:
    csv = (
        "url,metadata,id\n"
        'http://127.0.0.1:9/1.jpg,"{""a"": 1}",first\n'
        "http://127.0.0.1:9/2.jpg,{not json,second\n"
        'http://127.0.0.1:9/3.jpg,"[1, 2]",third\n'
        "http://127.0.0.1:9/4.jpg,,first\n"
        "ftp://127.0.0.1/5.jpg,,fifth\n"
        "http://127.0.0.1:9/6.jpg,,bad id!\n"
        "http://127.0.0.1:9/7.jpg,,\n"
    )
    post_upload(files={"rows.csv": csv.encode()})
    reasons = rejected(last_upload())
    assert reasons == {
        "rows.csv, line 3": "The metadata is not valid JSON (Expecting property name enclosed in double quotes "
        "at character 2).",
        "rows.csv, line 4": 'The metadata must be a JSON object, such as {"source": "camera"}.',
        "rows.csv, line 5": "The id 'first' is already given on rows.csv, line 2.",
        "rows.csv, line 6": "'ftp://127.0.0.1/5.jpg' is not an http or https URL.",
        "rows.csv, line 7": "'bad id!' is not a valid input id (letters, digits, '_', '-', '.').",
    }
    ids = inputs_of(gallery)
    assert len(ids) == 2 and "first" in ids


def test_an_id_the_app_already_has_fails_in_the_job_and_the_rest_go_in(
    post_upload: Post, gallery: str, local: Connection, console: Client
) -> None:
    post_upload(urls="http://127.0.0.1:9/old.jpg", files={"first.csv": b"url,id\nhttp://127.0.0.1:9/x.jpg,taken\n"})
    post_upload(files={"again.csv": b"url,id\nhttp://127.0.0.1:9/y.jpg,taken\nhttp://127.0.0.1:9/z.jpg,new\n"})
    job = job_of(last_upload())
    assert (job.progress().done, job.progress().failed) == (1, 1)
    failure = job.failures.get()
    assert failure.input_id == "taken" and failure.code == 30100
    assert "http://127.0.0.1:9/y.jpg: " in failure.reason and "already exists" in failure.reason
    assert Input.objects.get(app__app_id=gallery, input_id="taken").source_url == "http://127.0.0.1:9/x.jpg"
    html = console.get(reverse("jobs:detail", args=[local.pk, job.pk])).content.decode()
    assert "Upload 2 URLs" in html and "http://127.0.0.1:9/y.jpg" in html


def test_it_needs_files_or_urls(console: Client, local: Connection, gallery: str) -> None:
    response = console.post(reverse("uploads:new", args=[local.pk, gallery]), {"urls": "  "})
    assert response.status_code == 400
    assert "Choose files to upload, or give URLs." in response.content.decode()
    assert not Upload.objects.exists()


def test_bad_shared_metadata_or_concepts_are_said_under_their_fields_and_nothing_is_kept(
    console: Client, local: Connection, gallery: str, spool_dir: Path
) -> None:
    response = console.post(
        reverse("uploads:new", args=[local.pk, gallery]),
        {"urls": "http://127.0.0.1:9/a.jpg", "metadata": "[1]", "concepts": "cat:maybe"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "The metadata must be a JSON object" in html and "after the colon, write yes or no" in html
    assert not Upload.objects.exists() and not spool_dir.exists()


def test_a_chunk_sent_again_after_an_unknown_outcome_counts_its_inputs_once(
    post_upload: Post, gallery: str, local: Connection, staff: Any
) -> None:
    """What a worker that died after its request reached the API leaves: the chunk is claimed again and
    its PostInputs answered "duplicate" for inputs this upload sent; they count as uploaded."""
    upload = services.create_upload(
        staff,
        local,
        gallery,
        services.Shared([], {}),
        [],
        urls="\n".join(f"http://127.0.0.1:9/{n}.jpg" for n in range(5)),
    )
    job = job_of(upload)
    chunk = job.chunks.get()
    jobs.start_running(job.pk)
    jobs.work_on_chunk(job, chunk)  # posts them; then, say, the worker dies before recording it:
    Job.objects.filter(pk=job.pk).update(state=Job.RUNNING)
    job.chunks.update(state="pending", done_count=0)
    job.failures.all().delete()
    job = run(job)
    assert job.state == Job.DONE and (job.progress().done, job.progress().failed) == (5, 0)
    assert len(inputs_of(gallery)) == 5


def test_retry_failed_only_sends_the_failed_files_again_from_the_spool(
    post_upload: Post, gallery: str, local: Connection, staff: Any, api: Any, spool_dir: Path
) -> None:
    from clarifai_grpc.grpc.api import resources_pb2, service_pb2

    app = resources_pb2.UserAppIDSet(user_id="demo", app_id=gallery)
    # Taken by an input already: the pictures of this upload fail until it is deleted.
    api.call(
        "PostInputs",
        service_pb2.PostInputsRequest(
            user_app_id=app,
            inputs=[resources_pb2.Input(id="keep", data=resources_pb2.Data(image=resources_pb2.Image(base64=png())))],
        ),
    )
    csv = b"url,id\nhttp://127.0.0.1:9/k.jpg,keep\nhttp://127.0.0.1:9/n.jpg,new\n"
    post_upload(files={"a.png": png(), "b.png": jpeg(), "ids.csv": csv})
    upload = last_upload()
    job = job_of(upload)
    assert (job.progress().done, job.progress().failed) == (3, 1)
    services.clean_spool()  # the two pictures went in: their files are removed
    assert not any((spool_dir / upload.key).iterdir())
    api.call("DeleteInputs", service_pb2.DeleteInputsRequest(user_app_id=app, ids=["keep"]))
    retry = run(jobs.retry_failed(staff, job))
    assert retry.state == Job.DONE and (retry.progress().done, retry.progress().failed) == (1, 0)
    assert Input.objects.get(app__app_id=gallery, input_id="keep").source_url == "http://127.0.0.1:9/k.jpg"
    services.clean_spool()
    assert not (spool_dir / upload.key).exists()


def test_the_failed_files_stay_in_the_spool_for_a_retry(
    post_upload: Post, gallery: str, spool_dir: Path, settings: Any
) -> None:
    settings.LOCALAPI_MAX_IMAGE_BYTES = 2000  # the API refuses what the console let through
    post_upload(files={"small.png": png(8, 8), "large.png": png(300, 300, "white") + b"\x00" * 3000})
    upload = last_upload()
    job = job_of(upload)
    assert (job.progress().done, job.progress().failed) == (1, 1)
    failure = job.failures.get()
    assert failure.reason.startswith("large.png: ")
    services.clean_spool()
    assert [p.name for p in (spool_dir / upload.key).iterdir()] == [failure.input_id]
    settings.UPLOAD_SPOOL_KEEP_HOURS = 0
    services.clean_spool()
    assert not (spool_dir / upload.key).exists()


def test_an_upload_keeps_its_params_out_of_the_job(post_upload: Post, gallery: str) -> None:
    post_upload(urls="http://127.0.0.1:9/a.jpg", metadata=json.dumps({"k": "v" * 100}))
    job = job_of(last_upload())
    assert set(job.params) == {"upload", "summary"}


def test_the_form_needs_its_csrf_token(local: Connection, gallery: str, staff: Any) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff)
    response = browser.post(reverse("uploads:new", args=[local.pk, gallery]), {"urls": "http://127.0.0.1:9/a.jpg"})
    assert response.status_code == 403
    assert not Upload.objects.exists()


def test_file_names_are_shown_escaped(post_upload: Post, console: Client, gallery: str) -> None:
    response = post_upload(files={"<img src=x>.txt": b"not a picture"})
    html = console.get(response["Location"]).content.decode()
    assert "&lt;img src=x&gt;.txt" in html and "<img src=x>" not in html
    assert "Nothing could be uploaded: no job was started." in html


def test_an_upload_stops_taking_at_its_limit_and_lists_only_so_many_refusals(
    post_upload: Post, gallery: str, monkeypatch: Any
) -> None:
    monkeypatch.setattr(intake, "MAX_ITEMS", 6)
    monkeypatch.setattr(intake, "MAX_LISTED", 3)
    archive = zipped({f"empty-{n}.png": b"" for n in range(4)} | {f"ok-{n}.png": png(9 + n, 9) for n in range(4)})
    post_upload(files={"many.zip": archive})
    upload = last_upload()
    assert upload.rejected == [
        {"name": "many.zip: empty-0.png", "reason": "The file is empty."},
        {"name": "many.zip: empty-1.png", "reason": "The file is empty."},
        {"name": "many.zip: empty-2.png", "reason": "The file is empty."},
        {"name": "…", "reason": "And 2 more not uploaded (only 3 are listed)."},
    ]
    assert len(inputs_of(gallery)) == 2  # ok-0 and ok-1: the 7th entry is past the limit


def test_a_cancelled_upload_leaves_nothing_in_the_spool(
    console: Client, local: Connection, gallery: str, spool_dir: Path, staff: Any
) -> None:
    upload = services.create_upload(staff, local, gallery, services.Shared([], {}), [], urls="http://127.0.0.1:9/a.jpg")
    job = job_of(upload)
    assert (spool_dir / upload.key).is_dir()
    services.clean_spool()  # the job has not ended: nothing is removed
    assert (spool_dir / upload.key).is_dir()
    console.post(reverse("jobs:cancel", args=[local.pk, job.pk]))
    services.clean_spool()
    assert not (spool_dir / upload.key).exists()


def test_a_spool_folder_no_upload_owns_is_removed_after_an_hour(spool_dir: Path, db: None) -> None:
    for name, age in (("0123456789", 2 * 3600), ("abcdef0123", 60)):
        (spool_dir / name).mkdir(parents=True)
        (spool_dir / name / "up-x-00001").write_bytes(b"x")
        then = time.time() - age
        os.utime(spool_dir / name, (then, then))
    services.clean_spool()
    assert not (spool_dir / "0123456789").exists() and (spool_dir / "abcdef0123").exists()


def test_a_batch_some_of_whose_inputs_an_earlier_request_added_sends_the_rest(
    gallery: str, local: Connection, staff: Any, api: Any
) -> None:
    """The API refuses the whole request for the inputs that exist; those this upload sent before count as
    uploaded, and the others are sent again without them."""
    from clarifai_grpc.grpc.api import resources_pb2, service_pb2

    urls = "\n".join(f"http://127.0.0.1:9/{n}.jpg" for n in range(4))
    upload = services.create_upload(staff, local, gallery, services.Shared([], {}), [], urls=urls)
    early = list(upload.items.order_by("input_id")[:2])
    api.call(
        "PostInputs",
        service_pb2.PostInputsRequest(
            user_app_id=resources_pb2.UserAppIDSet(user_id="demo", app_id=gallery),
            inputs=[
                resources_pb2.Input(id=i.input_id, data=resources_pb2.Data(image=resources_pb2.Image(url=i.url)))
                for i in early
            ],
        ),
    )
    upload.items.filter(pk__in=[i.pk for i in early]).update(sent_at=timezone.now())
    job = run(job_of(upload))
    assert job.state == Job.DONE and (job.progress().done, job.progress().failed) == (4, 0)
    assert inputs_of(gallery) == set(upload.items.values_list("input_id", flat=True))


def test_the_upload_page_shows_its_job_live_until_it_ends(
    console: Client, local: Connection, gallery: str, staff: Any
) -> None:
    upload = services.create_upload(staff, local, gallery, services.Shared([], {}), [], urls="http://127.0.0.1:9/a.jpg")
    job = job_of(upload)
    url = reverse("uploads:detail", args=[local.pk, upload.pk])
    html = console.get(url).content.decode()
    assert f'hx-get="{reverse("jobs:detail", args=[local.pk, job.pk])}"' in html and 'hx-trigger="every 2s"' in html
    assert 'data-state="queued"' in html
    run(job)
    html = console.get(url).content.decode()
    assert 'data-state="done"' in html and 'hx-trigger="every 2s"' not in html
    assert '<div class="value" data-count="done">1</div>' in html


def test_a_form_over_the_total_size_is_refused_unread_and_nothing_is_kept(
    post_upload: Post, local: Connection, gallery: str, spool_dir: Path, settings: Any, console: Client
) -> None:
    """Tried: two files of 2,000 bytes each under a total limit of 3,000 bytes."""
    settings.UPLOAD_MAX_REQUEST_BYTES = 3000
    page = console.get(reverse("uploads:new", args=[local.pk, gallery])).content.decode()
    assert 'data-max-total="3000"' in page and "2.9\xa0KB at once" in page
    response = post_upload(files={"a.png": os.urandom(2000), "b.png": os.urandom(2000)})
    assert response.status_code == 413
    html = response.content.decode()
    assert "The upload is too large" in html
    assert "the console takes at most 2.9\xa0KB at once. Nothing was uploaded" in html
    assert not Upload.objects.exists() and inputs_of(gallery) == set()
    assert not any(spool_dir.rglob("*.png"))
    settings.UPLOAD_MAX_REQUEST_BYTES = 10_000_000
    assert post_upload(files={"a.png": png()}).status_code == 302
