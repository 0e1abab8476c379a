"""Random and hostile input on the administration's forms: never a 5xx, always escaped."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from tests.factories import csrf_token, logged_in_as, make_user, post_form

FIELDS = [
    "csrf_token",
    "email",
    "password",
    "role",
    "password_choice",
    "new_password",
    "confirm_password",
    "current_password",
    "action",
]
values = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        ["admin", "hr", "board", "generate", "set", "disable", "enable", "", "\x00", "ä" * 400]
    ),
)
forms = st.lists(st.tuples(st.one_of(st.sampled_from(FIELDS), st.text(max_size=20)), values))
PATHS = [
    "/admin/login",
    "/admin/logout",
    "/admin/password",
    "/admin/users/new",
    "/admin/users/{id}/role",
    "/admin/users/{id}/status",
    "/admin/users/{id}/password",
]
SERIAL = itertools.count()
HYPOTHESIS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@HYPOTHESIS
@given(form=forms, path=st.sampled_from(PATHS), keep_csrf=st.booleans())
def test_random_admin_forms_never_fail(app, client, form, path, keep_csrf):
    # Random failed logins must not throttle the test's own logins.
    app.config.update(LOGIN_CLIENT_SLOWDOWN_AFTER=10**6, LOGIN_CLIENT_LOCK_AFTER=10**6)
    target = make_user(app, f"target{next(SERIAL)}@example.se", "hr")
    if client.get("/admin/").status_code != 200:
        logged_in_as(app, client, "admin", f"admin{next(SERIAL)}@example.se")
    data = list(form)
    if keep_csrf:
        data.append(("csrf_token", csrf_token(client.get("/admin/").get_data(as_text=True))))
    response = client.post(path.format(id=target.id), data=MultiDict(data))
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    for query in ("?page=-1", "?page=9999999999999", "?action=%00", "?page=%C3%A4"):
        assert client.get("/admin/audit" + query).status_code < 500


def test_markup_in_an_address_is_shown_as_text(app, client):
    logged_in_as(app, client, "admin")
    email = "<script>alert(1)</script>@example.se"
    response = post_form(
        client, "/admin/users/new", {"email": email, "role": "hr", "password_choice": "generate"}
    )
    assert response.status_code == 200
    for page in ("/admin/users", "/admin/audit"):
        html = client.get(page).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;@example.se" in html
