"""Every project- or permission-scoped fetch goes through here: the one door (issue #14).

Non-members get 404 (a project's existence is not revealed); members whose role is
too low get 403. The rules live in the modules of this package, by concern: `roles`
(memberships, roles, invitations), `rows` (a project's rows by model), `items` (which
items a member sees), `discussion` (an item's thread, the inbox), `sources` (which
labels a member reads, report names); callers import them from `annotate.access`.
"""

from annotate.access.calibration import (  # noqa: F401
    get_item_for_gold,
    get_member_for_manager,
    get_own_try,
)
from annotate.access.discussion import (  # noqa: F401
    author_names,
    get_discussion_thread,
    inbox_badge,
    inbox_items,
    may_post,
    thread_messages,
)
from annotate.access.items import (  # noqa: F401
    annotator_aliases,
    get_discussion_for_user,
    get_held_item,
    get_item_for_user,
    get_managed_item,
    readable_final_label,
    sees_assigned_items_only,
    sees_true_state,
    side_letter,
    visible_items,
)
from annotate.access.opencoding import (  # noqa: F401
    get_proposal_for_manager,
    visible_proposals,
)
from annotate.access.precedents import (  # noqa: F401
    consistency_reviews,
    item_issues,
    may_see_precedents,
    precedent_issues,
    settled_items,
    similar_item_scope,
)
from annotate.access.raters import (  # noqa: F401
    RATER_MANAGERS,
    get_project_for_raters,
    get_rater_for_user,
    get_rater_run,
    latest_finished_runs,
    machine_labels,
    project_rater_runs,
    project_raters,
    rater_labels_for_adjudication,
)
from annotate.access.roles import (  # noqa: F401
    ALL_ROLES,
    MANAGERS,
    OWNERS,
    ROLE_TOO_LOW,
    can_create_projects,
    check_can_create_projects,
    find_annotator,
    get_import_job_for_user,
    get_invitation_by_token,
    get_invitation_for_owner,
    get_membership,
    get_project_for_user,
    has_role,
    leaves_no_owner,
    names_hidden_from,
    open_invitations,
    pending_invitations,
    project_members,
    pseudonym,
    require_role,
    roles_by_project,
    user_projects,
    user_projects_with_role,
)
from annotate.access.rows import (  # noqa: F401
    PROJECT_PATHS,
    all_repository_views,
    codebook_changes,
    final_record_labels,
    get_release,
    items_of_projects,
    own_annotations,
    own_assignments,
    project_annotations,
    project_categories,
    project_dimensions,
    project_import_jobs,
    project_issues,
    project_items,
    project_releases,
    project_rows,
    repository_views_with_items,
    settled_final_labels,
)
from annotate.access.sources import (  # noqa: F401
    AGREEMENT_READERS,
    SourceAccess,
    final_records_in_scope,
    get_project_for_agreement,
    label_source_access,
    labels_in_group,
    report_name,
    report_names,
    repository_groups,
    source_label_rows,
)
