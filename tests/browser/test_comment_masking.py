"""HR masks part of a comment before it goes into the report; identical comments are one."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from portal import store
from portal.extensions import db
from portal.store.models import Comment, CommentSelection
from tests.browser.conftest import assert_accessible
from tests.browser.test_admin_surveys import hr_login
from tests.factories import make_survey, private_key
from tests.portal.board_fixtures import answer


def test_hr_masks_a_comment_with_the_keyboard(portal, desktop):
    app = portal.app
    survey, _ = make_survey(app)
    answer(app, survey, 10)
    with app.app_context(), db.connection_context():
        for text in (
            "Chefen på enheten i Hjo tog det på allvar.",
            "Mer personal",
            "mer personal",
        ):
            Comment.insert(
                id=str(uuid.uuid4()), survey=survey.id, question="suggestions", text=text
            ).execute()
        store.set_status(survey, "closed", private_key(survey))
    hr_login(portal, desktop, "hr.masking@example.se")
    desktop.goto(portal.url(f"/admin/surveys/{survey.slug}/comments"))
    expect(desktop.locator(".comment-count")).to_have_text("Written by 2 people")
    assert_accessible(desktop)
    comment = desktop.locator("li.comment", has_text="Hjo")
    comment.get_by_role("checkbox").check()
    comment.locator("summary").click()
    mask = comment.get_by_label("The comment as it will be published")
    expect(mask).to_be_visible()
    assert_accessible(desktop)
    mask.fill("Chefen på enheten i […] tog det på allvar.")
    desktop.get_by_role("button", name="Save the choice").click()
    expect(desktop.locator(".flash")).to_contain_text("1")
    expect(desktop.locator("li.comment", has_text="Masked for the report.")).to_contain_text(
        "i […] tog"
    )
    assert_accessible(desktop)
    # Anything but masking is refused with a message, and the choice stays as it was.
    comment = desktop.locator("li.comment", has_text="Masked for the report.")
    comment.get_by_label("The comment as it will be published").fill(
        "Chefen tog det inte på allvar."
    )
    desktop.get_by_role("button", name="Save the choice").click()
    expect(desktop.locator("main")).to_contain_text("A comment can only be masked")
    assert_accessible(desktop)
    with app.app_context(), db.connection_context():
        (selection,) = CommentSelection.select().where(CommentSelection.survey == survey.id)
        assert selection.masked_text == "Chefen på enheten i […] tog det på allvar."
