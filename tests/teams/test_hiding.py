"""Pages hide what the person's role does not allow: a viewer sees no Upload tab, no bulk actions, no edit
forms; an editor sees them all."""

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client

from console.connections.models import Connection

# The local API answers from its own threads' database connections: they see only committed rows.
pytestmark = pytest.mark.django_db(transaction=True)

CONTROLS = {
    "inputs/": ["Upload</a>", 'id="bulk"', 'name="ids"', ">Settings</a>"],
    "inputs/image-000/": ["Delete…", "<h2>Edit</h2>"],
    "concepts/": ["Create concept", "Rename</button>"],
    "concepts/red/": ["Add the relation", "from every input…"],
    "datasets/": ["Create a dataset"],
}


def test_a_viewer_sees_no_controls_an_editor_has(
    sign_in: Callable[..., Client], local: Connection, make_app: Callable[..., str]
) -> None:
    make_app("shapes", images=1)
    base = f"/c/{local.pk}/apps/shapes/"
    for role, shown in (("viewer", False), ("labeler", False), ("reviewer", False), ("editor", True)):
        client = sign_in(role)
        for page, controls in CONTROLS.items():
            html = client.get(base + page).content.decode()
            assert "{#" not in html  # no template comment spilled into the page
            for control in controls:
                assert (control in html) is shown, (role, page, control)
        assert ("Create an app" in client.get(f"/c/{local.pk}/apps/").content.decode()) is shown
        assert ("Start the job" in client.get(f"/c/{local.pk}/jobs/").content.decode()) is shown


def test_the_audit_log_is_linked_from_the_team_page_for_its_admins_and_from_the_menu_for_superusers(
    sign_in: Callable[..., Client], local: Connection, people: dict[str, User]
) -> None:
    log = f'href="/c/{local.pk}/audit/"'
    team = f"/teams/{local.team_id}/"
    assert log in sign_in("admin").get(team).content.decode()
    assert log not in sign_in("editor").get(team).content.decode()
    assert 'href="/audit/"' not in sign_in("admin").get(team).content.decode()
    people["admin"].is_superuser = True
    people["admin"].save()
    assert 'href="/audit/"' in sign_in("admin").get(team).content.decode()
