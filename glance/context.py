"""The request context: who is calling, on behalf of which project."""

from oslo_context import context


class RequestContext(context.RequestContext):
    """oslo.context's context plus what the Image service derives from it."""

    def __init__(self, **kwargs):
        self._is_admin = None
        # The caller's Keystone service catalog (glance-download).
        self.service_catalog = []
        super().__init__(**kwargs)
        # Decided from the roles on first use, not while they were unset.
        self.is_admin = kwargs.get('is_admin')

    @property
    def is_admin(self):
        """True when made an administrator, or when the context_is_admin
        rule accepts the caller (decided on first use)."""
        if self._is_admin is None:
            from glance.domain import policy
            self._is_admin = False
            self._is_admin = policy.check(self, 'context_is_admin', {})
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
        ctx = self.__class__(**self.to_dict_for_copy())
        ctx.is_admin = True
        if 'admin' not in ctx.roles:
            ctx.roles.append('admin')
        return ctx

    def to_dict_for_copy(self):
        return dict(user_id=self.user_id, project_id=self.project_id,
                    roles=list(self.roles),
                    service_roles=list(self.service_roles or ()),
                    is_admin=self.is_admin,
                    read_only=self.read_only, request_id=self.request_id,
                    auth_token=self.auth_token,
                    show_deleted=self.show_deleted)
