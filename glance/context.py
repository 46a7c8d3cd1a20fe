"""The request context: who is calling, on behalf of which project.

Whether the caller is an administrator is the policy rule
``context_is_admin``. The policy sits above this module, so the context
does not import it: whoever builds a context hands it the check
(``admin_check``, the identity filters give the policy's), and the check
runs once, on the first look at ``is_admin``. A context built without one
(tests, a process without an API) counts the ``admin`` role, which is the
rule's default.
"""

from typing import Callable, Optional

from oslo_context import context

AdminCheck = Callable[['RequestContext'], bool]


def has_admin_role(ctx: 'RequestContext') -> bool:
    """The default of ``context_is_admin``: the ``admin`` role, in any case."""
    return any(role.lower() == 'admin' for role in ctx.roles)


class RequestContext(context.RequestContext):
    """oslo.context's context plus what the Image service derives from it."""

    def __init__(self, admin_check: Optional[AdminCheck] = None, **kwargs):
        self._is_admin = None
        self._admin_check = admin_check or has_admin_role
        # The caller's Keystone service catalog (glance-download).
        self.service_catalog = []
        super().__init__(**kwargs)
        # Decided from the roles on first use, not while they were unset.
        self.is_admin = kwargs.get('is_admin')

    @property
    def is_admin(self) -> bool:
        """True when made an administrator, or when the admin check
        accepts the caller (decided on first use)."""
        if self._is_admin is None:
            # False while the check runs: a policy check reads is_admin.
            self._is_admin = False
            self._is_admin = bool(self._admin_check(self))
        return self._is_admin

    @is_admin.setter
    def is_admin(self, value):
        self._is_admin = True if value else None

    @property
    def owner(self):
        return self.project_id

    @property
    def can_see_deleted(self):
        return self.show_deleted or self.is_admin

    def elevated(self):
        ctx = self.__class__(admin_check=self._admin_check,
                             **self.to_dict_for_copy())
        ctx.is_admin = True
        if 'admin' not in ctx.roles:
            ctx.roles.append('admin')
        return ctx

    def to_dict_for_copy(self):
        copied = {key: getattr(self, key) for key in _COPIED}
        copied.update(roles=list(self.roles),
                      service_roles=list(self.service_roles or ()),
                      is_admin=self.is_admin)
        return copied


# What a copy of a context (``elevated``) keeps as it is: the identity,
# its scope and domains, and the service token's user and project.
_COPIED = (
    'user_id', 'project_id', 'read_only', 'request_id', 'auth_token',
    'show_deleted', 'system_scope', 'domain_id', 'domain_name',
    'user_domain_id', 'user_domain_name', 'project_domain_id',
    'project_domain_name', 'user_name', 'project_name', 'is_admin_project',
    'service_token', 'service_user_id', 'service_user_name',
    'service_user_domain_id', 'service_user_domain_name',
    'service_project_id', 'service_project_name',
    'service_project_domain_id', 'service_project_domain_name',
    'global_request_id')
