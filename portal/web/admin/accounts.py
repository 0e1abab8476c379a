"""Administration pages for every account: login, the overview, accounts and the audit log.

Every view except the login page is behind ``auth.require_role``. Views are
thin: they parse a form, call ``portal.services.accounts`` (which writes the
audit log) and render or redirect.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from portal import store
from portal.services import accounts, audit, organisation, passwords
from portal.store.models import AuditEntry
from portal.web import security
from portal.web.admin import auth, forms
from portal.web.admin.auth import current_user, require_role, signed_in_user
from portal.web.errors import error_page
from portal.web.routes import Routes

routes = Routes()
AUDIT_PAGE_SIZE = 50


@routes.app_context_processor
def _admin_globals() -> dict:
    return {
        "admin_user": current_user,
        "role_label": lambda role: forms.ROLE_LABELS.get(role, role),
        "audit_label": lambda action: gettext(audit.label(action)),
        "audit_detail": describe,
        "previous_login": auth.previous_login,
    }


def describe(entry: AuditEntry) -> str:
    """An audit entry's detail in the current language, its placeholders filled.

    Role keys among the values are shown by their labels.
    """
    if not entry.detail:
        return ""
    params = {
        name: str(forms.ROLE_LABELS[value]) if value in forms.ROLE_LABELS else value
        for name, value in entry.params().items()
    }
    try:
        return gettext(entry.detail, **params) if params else gettext(entry.detail)
    except (KeyError, ValueError, TypeError):
        # Placeholders that do not match their values: show the stored text.
        return entry.detail


def _client() -> str:
    """The throttle key of this request's client (a keyed hash of its address, in memory)."""
    return security.client_key(current_app.config["SECRET_KEY"])


def error_text(exc: accounts.AccountError) -> str:
    """The message of a refused account operation in the user's language."""
    return gettext(exc.message, **exc.params)


# -- login and logout ------------------------------------------------------------------


def _login_page(form, status: int = 200, error: str | None = None, **headers):
    config = current_app.config
    password_off = not accounts.password_login_allowed(config, "")
    page = render_template(
        "admin/login.html",
        form=form,
        error=error,
        sso=bool(config.get("SSO_ISSUER")),
        password_form=not password_off or request.args.get("password") == "1",
        password_off=password_off,
    )
    return page, status, headers


@routes.route("/login", methods=["GET", "POST"])
def login():
    """The login form; after success, the second factor or back to ``next`` or the overview."""
    if current_user() is not None and request.method == "GET":
        return redirect(url_for(".dashboard"))
    form = forms.LoginForm()
    if not form.validate_on_submit():
        return _login_page(form, 400 if form.is_submitted() else 200)
    next_page = auth.safe_next(request.args.get("next"))
    try:
        user = accounts.authenticate(form.email.data, form.password.data, client=_client())
    except accounts.LoginThrottled as exc:
        return _login_page(form, 429, error_text(exc), **{"Retry-After": str(exc.retry_after)})
    except accounts.PasswordLoginOff as exc:
        return _login_page(form, 403, error_text(exc))
    except accounts.LoginRefused as exc:
        return _login_page(form, 401, error_text(exc))
    if accounts.second_factor_required(user, current_app.config):
        auth.begin_pending(user, next_page)
        return redirect(url_for(".login_code" if user.has_totp else ".login_enrol"))
    auth.login_user(user)
    return redirect(after_login(user, next_page))


def after_login(user, next_page: str | None) -> str:
    """Where a new session goes: a password to change first, else ``next`` or the overview."""
    if user.must_change_password and auth.session_method() == "password":
        flash(gettext("Choose your own password before you go on."), "info")
        return url_for(".password")
    return next_page or url_for(".dashboard")


@routes.post("/logout")
def logout():
    """End the session (and every other session of the account)."""
    user = current_user()
    if user is not None:
        audit.record("logout", actor=user)
    auth.logout_user()
    flash(gettext("You have logged out."), "info")
    return redirect(url_for(".login"))


# -- every account -----------------------------------------------------------------------


@routes.get("/")
@require_role()
def dashboard():
    """The overview page after login."""
    return render_template("admin/dashboard.html")


@routes.route("/password", methods=["GET", "POST"])
@require_role()
def password():
    """Change one's own password; the account's other sessions end."""
    user = current_user()
    form = forms.ChangePasswordForm(account_email=user.email)
    if not form.validate_on_submit():
        return render_template("admin/password.html", form=form), 400 if form.errors else 200
    try:
        updated = accounts.change_own_password(
            user, form.current_password.data, form.new_password.data, client=_client()
        )
    except accounts.WrongPassword as exc:
        form.current_password.errors.append(error_text(exc))
        return render_template("admin/password.html", form=form), 400
    except accounts.LoginThrottled as exc:
        form.current_password.errors.append(error_text(exc))
        return render_template("admin/password.html", form=form), 429
    except passwords.PasswordRejected as exc:
        form.new_password.errors.extend(gettext(m.message, **m.params) for m in exc.messages)
        return render_template("admin/password.html", form=form), 400
    auth.refresh_session(updated)
    flash(gettext("Your password has been changed. Other sessions have been logged out."), "ok")
    return redirect(url_for(".dashboard"))


# -- accounts (administrators) -------------------------------------------------------------


@routes.get("/users")
@require_role("admin")
def users():
    """Every account with its role, status and part of the organisation."""
    return render_template(
        "admin/users.html", users=store.list_users(), tree=organisation.load_tree()
    )


@routes.route("/users/new", methods=["GET", "POST"])
@require_role("admin")
def user_new():
    """Create an account with a chosen or generated password."""
    form = forms.CreateUserForm()
    if not form.validate_on_submit():
        return render_template("admin/user_new.html", form=form), 400 if form.errors else 200
    password = form.new_password.data if form.password_choice.data == "set" else None
    try:
        user, generated = accounts.create_account(
            form.email.data,
            form.role.data,
            password,
            actor=current_user(),
            node_id=int(form.node.data) if form.node.data else None,
        )
    except accounts.EmailTaken as exc:
        form.email.errors.append(error_text(exc))
        return render_template("admin/user_new.html", form=form), 409
    flash(gettext("The account %(email)s has been created.", email=user.email), "ok")
    return _after_password_set(user, generated)


def _after_password_set(user, generated: str | None):
    # A generated password is shown on this one response and never again.
    if generated:
        return render_template("admin/password_shown.html", account=user, password=generated)
    return redirect(url_for(".user", user_id=user.id))


def _account_or_404(user_id: int):
    account = store.get_user(user_id)
    if account is None:
        abort(404)
    return account


def _user_page(account, status: int = 200, **form_overrides):
    page_forms = {
        "role_form": forms.RoleForm(formdata=None, role=account.role),
        "node_form": forms.NodeForm(formdata=None, node=str(account.node_id or "")),
        "status_form": forms.StatusForm(formdata=None),
        "reset_form": forms.ResetPasswordForm(formdata=None, account_email=account.email),
        **form_overrides,
    }
    return render_template("admin/user.html", account=account, **page_forms), status


@routes.get("/users/<int:user_id>")
@require_role("admin")
def user(user_id: int):
    """One account: role, status and password reset."""
    return _user_page(_account_or_404(user_id))


@routes.post("/users/<int:user_id>/role")
@require_role("admin")
def user_role(user_id: int):
    """Give the account another role (its sessions end)."""
    account = _account_or_404(user_id)
    form = forms.RoleForm()
    if not form.validate_on_submit():
        return _user_page(account, 400, role_form=form)
    try:
        updated = accounts.change_role(account, form.role.data, actor=current_user())
    except accounts.LastAdmin as exc:
        form.role.errors.append(error_text(exc))
        return _user_page(account, 409, role_form=form)
    _keep_own_session(updated)
    flash(gettext("The role has been changed."), "ok")
    return redirect(url_for(".user", user_id=account.id))


@routes.post("/users/<int:user_id>/node")
@require_role("admin")
def user_node(user_id: int):
    """Attach the account to another part of the organisation (its scope)."""
    account = _account_or_404(user_id)
    form = forms.NodeForm()
    if not form.validate_on_submit():
        return _user_page(account, 400, node_form=form)
    try:
        organisation.move_account(account, form.node.data, actor=signed_in_user())
    except organisation.OrganisationError as exc:
        form.node.errors.append(gettext(exc.message, **exc.params))
        return _user_page(account, 400, node_form=form)
    flash(gettext("The account's part of the organisation has been changed."), "ok")
    return redirect(url_for(".user", user_id=account.id))


@routes.post("/users/<int:user_id>/status")
@require_role("admin")
def user_status(user_id: int):
    """Disable (ending its sessions) or enable the account."""
    account = _account_or_404(user_id)
    action = request.form.get("action")
    if action not in ("disable", "enable") or not forms.StatusForm().validate_on_submit():
        return _user_page(account, 400)
    try:
        updated = accounts.set_disabled(account, action == "disable", actor=current_user())
    except accounts.LastAdmin as exc:
        return _user_page(account, 409, status_error=error_text(exc))
    _keep_own_session(updated)
    flash(
        gettext("The account has been disabled.")
        if updated.disabled
        else gettext("The account has been enabled."),
        "ok",
    )
    return redirect(url_for(".user", user_id=account.id))


@routes.post("/users/<int:user_id>/password")
@require_role("admin")
def user_password(user_id: int):
    """Reset the account's password (generated or chosen); its sessions end."""
    account = _account_or_404(user_id)
    form = forms.ResetPasswordForm(account_email=account.email)
    if not form.validate_on_submit():
        return _user_page(account, 400, reset_form=form)
    password = form.new_password.data if form.password_choice.data == "set" else None
    updated, generated = accounts.reset_password(account, password, actor=current_user())
    _keep_own_session(updated)
    flash(gettext("The password of %(email)s has been reset.", email=account.email), "ok")
    return _after_password_set(updated, generated)


def _keep_own_session(updated) -> None:
    # Changing one's own account rotates the nonce: keep this session, unless disabled.
    if updated.id == signed_in_user().id and not updated.disabled:
        auth.refresh_session(updated)


# -- audit log -----------------------------------------------------------------------------


@routes.get("/audit", endpoint="audit")
@require_role("admin")
def audit_log():
    """The audit log, newest first, optionally one action only."""
    action = request.args.get("action") or None
    if action is not None and action not in audit.ACTIONS:
        return error_page(400)
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1
    entries, total = store.audit_entries(page, AUDIT_PAGE_SIZE, action)
    pages = max(1, -(-total // AUDIT_PAGE_SIZE))
    return render_template(
        "admin/audit.html",
        entries=entries,
        total=total,
        page=page,
        pages=pages,
        action=action,
        actions=audit.ACTIONS,
    )
