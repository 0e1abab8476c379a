"""Persistence: the only place with queries, one module per group of tables.

``portal.store`` re-exports the public functions of its modules, so callers
write ``store.create_survey(...)``; the models are in ``portal.store.models``
and the schema migrations in ``portal.store.migrations``.
"""

from portal.store.accounts import (  # noqa: F401 - the package's API
    ThrottleState,
    add_audit_entry,
    audit_entries,
    clear_throttle,
    create_user,
    get_user,
    get_user_by_email,
    list_users,
    new_session_nonce,
    normalise_email,
    purge_throttle,
    record_login,
    record_throttle_failure,
    rotate_session_nonce,
    set_password_hash,
    set_user_disabled,
    set_user_role,
    throttle_states,
    user_count,
)
from portal.store.counts import (  # noqa: F401 - the package's API
    COUNTS_FORMAT,
    GROUP_COLUMNS,
    Group,
    aggregate_counts,
    answer_cube,
    result_counts,
)
from portal.store.database import (  # noqa: F401 - the package's API
    backup_sqlite,
    compact,
    create_tables,
    database_ok,
    is_sqlite,
    open_database,
    shuffle_storage_order,
    write_transaction,
)
from portal.store.errors import (  # noqa: F401 - the package's API
    AlreadySubmitted,
    BackupError,
    CodeRejected,
    DatabaseBusy,
    DuplicateEmail,
    LastActiveAdmin,
    ResultsNotAvailable,
    StoreError,
    SurveyNotOpen,
    UnknownUser,
    WrongStatus,
)
from portal.store.models import RESULT_STATUSES, Status  # noqa: F401, E402 - API
from portal.store.responses import (  # noqa: F401 - the package's API
    ANSWER_FIELDS,
    Admission,
    CodeLookup,
    add_codes,
    code_counts,
    code_is_valid,
    look_up_code,
    revoke_unused_codes,
    submit_response,
    submit_responses,
)
from portal.store.surveys import (  # noqa: F401 - the package's API
    SLUG_BYTES,
    create_survey,
    get_survey,
    get_survey_by_id,
    list_published,
    list_surveys,
    new_slug,
    previous_published,
    publish,
    purge_responses,
    report_snapshot,
    response_count,
    response_counts,
    scheduled_surveys,
    selected_comments,
    set_archived,
    set_comment_selection,
    set_public_results,
    set_purge_after,
    set_status,
    survey_comments,
    survey_units,
    surveys_titled,
    transition,
    unit_question_key,
    unit_response_counts,
    update_draft,
)
