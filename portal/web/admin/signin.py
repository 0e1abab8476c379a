"""Sign-in pages beyond the password: the second factor, single sign-on and sessions.

Thin views: the work is in ``portal.services.accounts`` (second factor),
``portal.services.signin`` (OpenID Connect) and ``portal.services.sessions``;
the session itself in ``portal.web.admin.auth``.
"""

from __future__ import annotations

import logging

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_wtf import FlaskForm

from portal import store
from portal.services import access, accounts, mfa, sessions, signin
from portal.web import security
from portal.web.admin import auth, forms
from portal.web.admin.accounts import after_login, error_text
from portal.web.admin.auth import current_user, require_role, signed_in_user
from portal.web.errors import error_page
from portal.web.routes import Routes

routes = Routes()
log = logging.getLogger(__name__)
SSO_KEY = "sso_pending"


def client_key() -> str:
    """The throttle key of this request's client (a keyed hash of its address, in memory)."""
    return security.client_key(current_app.config["SECRET_KEY"])


# -- the second factor at login ----------------------------------------------------------


def _finish_password_login(user, next_page: str | None):
    auth.end_pending()
    accounts.complete_login(user)
    auth.login_user(user)
    return redirect(after_login(user, next_page))


@routes.route("/login/code", methods=["GET", "POST"])
def login_code():
    """The TOTP (or recovery) code after the password."""
    user = auth.pending_user()
    if user is None or not user.has_totp:
        return redirect(url_for(".login"))
    form = forms.CodeForm()
    if not form.validate_on_submit():
        return render_template("admin/login_code.html", form=form), 400 if form.errors else 200
    try:
        accounts.verify_second_factor(user, form.code.data, client=client_key())
    except accounts.LoginThrottled as exc:
        page = render_template("admin/login_code.html", form=form, error=error_text(exc))
        return page, 429, {"Retry-After": str(exc.retry_after)}
    except accounts.SecondFactorRefused as exc:
        return render_template("admin/login_code.html", form=form, error=error_text(exc)), 401
    return _finish_password_login(user, auth.pending_value("next"))


def _enrolment_secret(user) -> str:
    """The secret being enrolled, kept encrypted in the session until it is confirmed."""
    secret_key = current_app.config["SECRET_KEY"]
    kept = session.get("mfa_enrolment")
    secret = mfa.decrypt_secret(secret_key, user.id, kept) if isinstance(kept, str) else None
    if secret is None:
        secret = mfa.new_secret()
        session["mfa_enrolment"] = mfa.encrypt_secret(secret_key, user.id, secret)
    return secret


def _enrol_page(user, form, status: int = 200, error: str | None = None, required: bool = True):
    secret = _enrolment_secret(user)
    uri = mfa.provisioning_uri(secret, user.email)
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    page = render_template(
        "admin/mfa_enrol.html",
        form=form,
        error=error,
        required=required,
        secret_text=grouped,
        qr_svg=access.qr_svg(uri, gettext("QR code for your authenticator app")),
    )
    return page, status


def _confirm(user, form, required: bool):
    """Check the confirmation code; returns (updated user, codes) or a page to show."""
    if not form.validate_on_submit():
        return None, _enrol_page(user, form, 400 if form.errors else 200, required=required)
    try:
        updated, codes = accounts.confirm_enrolment(
            user, _enrolment_secret(user), form.code.data, client=client_key()
        )
    except accounts.LoginThrottled as exc:
        return None, _enrol_page(user, form, 429, error_text(exc), required)
    except accounts.SecondFactorRefused as exc:
        return None, _enrol_page(user, form, 401, error_text(exc), required)
    session.pop("mfa_enrolment", None)
    return (updated, codes), None


@routes.route("/login/enrol", methods=["GET", "POST"])
def login_enrol():
    """Enrolment of a second factor during a login that requires one."""
    user = auth.pending_user()
    if user is None or user.has_totp:
        return redirect(url_for(".login"))
    result, page = _confirm(user, forms.CodeForm(), required=True)
    if page is not None:
        return page
    updated, codes = result
    next_page = auth.pending_value("next")
    auth.end_pending()
    accounts.complete_login(updated)
    auth.login_user(updated)
    return render_template(
        "admin/recovery_codes.html", codes=codes, next_url=after_login(updated, next_page)
    )


@routes.route("/mfa", methods=["GET", "POST"])
@require_role()
def mfa_enrol():
    """Voluntary enrolment by a logged-in account (when its role does not require one)."""
    user = current_user()
    if user.has_totp:
        return redirect(url_for(".sessions"))
    result, page = _confirm(user, forms.CodeForm(), required=False)
    if page is not None:
        return page
    updated, codes = result
    auth.refresh_session(updated)
    return render_template("admin/recovery_codes.html", codes=codes, next_url=url_for(".sessions"))


@routes.post("/users/<int:user_id>/mfa/reset")
@require_role("admin")
def user_mfa_reset(user_id: int):
    """Remove an account's second factor: it enrols again at its next login (audited)."""
    account = store.get_user(user_id)
    if account is None:
        abort(404)
    if not FlaskForm().validate_on_submit():
        return error_page(400)
    updated = accounts.reset_second_factor(account, actor=current_user())
    if updated.id == signed_in_user().id:
        auth.refresh_session(updated)
    flash(gettext("The second factor of %(email)s has been reset.", email=account.email), "ok")
    return redirect(url_for(".user", user_id=account.id))


# -- sessions --------------------------------------------------------------------------------


@routes.get("/sessions", endpoint="sessions")
@require_role()
def sessions_page():
    """The account's own active sessions, each of which it can end."""
    user = signed_in_user()
    return render_template(
        "admin/sessions.html",
        user=user,
        rows=sessions.list_for(user),
        this_session=auth.current_session_id(),
        method=auth.session_method(),
        recovery_left=len(store.recovery_codes(user.id)),
    )


@routes.post("/sessions/<sid>/end")
@require_role()
def session_end(sid: str):
    """End one of one's own sessions (this one included: that is a logout)."""
    user = signed_in_user()
    if not FlaskForm().validate_on_submit():
        return error_page(400)
    this = sid == auth.current_session_id()
    if not sessions.end_own(user, sid):
        abort(404)
    if this:
        auth.logout_user()
        flash(gettext("You have logged out."), "info")
        return redirect(url_for(".login"))
    flash(gettext("The session has been ended."), "ok")
    return redirect(url_for(".sessions"))


@routes.post("/users/<int:user_id>/sessions/end")
@require_role("admin")
def user_sessions_end(user_id: int):
    """End every session of an account (the administrator's own: logged out)."""
    account = store.get_user(user_id)
    if account is None:
        abort(404)
    if not FlaskForm().validate_on_submit():
        return error_page(400)
    count = sessions.end_all_of(account, actor=current_user())
    if account.id == signed_in_user().id:
        auth.logout_user()
        return redirect(url_for(".login"))
    flash(gettext("%(count)d sessions of %(email)s ended.", count=count, email=account.email), "ok")
    return redirect(url_for(".user", user_id=account.id))


@routes.post("/sessions/end-all")
@require_role("admin")
def sessions_end_all():
    """End every session of every account, one's own included."""
    if not FlaskForm().validate_on_submit():
        return error_page(400)
    sessions.end_everyone(actor=current_user())
    auth.logout_user()
    flash(gettext("Every session has been ended. Log in again."), "info")
    return redirect(url_for(".login"))


# -- single sign-on (OpenID Connect) ---------------------------------------------------------


def _sso_settings():
    return signin.settings_from_config(current_app.config)


@routes.get("/sso/start")
def sso_start():
    """Send the browser to the identity provider (state, nonce and PKCE kept in the session).

    A link, not a form: the Content-Security-Policy's ``form-action 'self'`` would
    stop a form's redirect to the provider. Starting a sign-in changes nothing
    but this browser's own pending state, so it needs no CSRF token.
    """
    settings = _sso_settings()
    if settings is None:
        return redirect(url_for(".login"))
    try:
        url, pending = signin.begin(settings, auth.safe_next(request.args.get("next")))
    except signin.SignInRefused as exc:
        log.warning("SSO could not start: %s", exc.reason)
        return _sso_refused(exc, 502)
    session[SSO_KEY] = pending.as_dict()
    return redirect(url)


def _sso_refused(exc: signin.SignInRefused, status: int):
    form = forms.LoginForm(formdata=None)
    config = current_app.config
    password_off = not accounts.password_login_allowed(config, "")
    page = render_template(
        "admin/login.html",
        form=form,
        error=gettext(exc.message, **exc.params),
        sso=True,
        password_form=not password_off,
        password_off=password_off,
    )
    return page, status


@routes.get("/sso/callback")
def sso_callback():
    """The provider's answer: verify it, find the account, start the session."""
    settings = _sso_settings()
    if settings is None:
        return redirect(url_for(".login"))
    # Taken out of the session before anything else: an answer is used once.
    pending = signin.Pending.from_dict(session.pop(SSO_KEY, None))
    email = ""
    try:
        claims = signin.finish(settings, pending, request.args.to_dict())
        email = signin.email_of(settings, claims)
        user = signin.account_for(settings, claims)
    except signin.SignInRefused as exc:
        log.info("SSO sign-in refused: %s", exc.reason)
        signin.refused(exc, email)
        status = 403 if isinstance(exc, signin.NoAccount | signin.AccountDisabled) else 400
        return _sso_refused(exc, status)
    accounts.complete_login(user, method="sso")
    auth.login_user(user, method="sso")
    return redirect(pending.next or url_for(".dashboard"))
