from django.contrib import admin

from dandelion.sso.models import (
    ClaimRule,
    ExternalIdentity,
    IdentityProvider,
    LocalPasswordPolicy,
    SamlRequest,
    ScimGroup,
)


class ClaimRuleInline(admin.TabularInline):
    model = ClaimRule
    extra = 0
    raw_id_fields = ("unit", "team")


@admin.register(IdentityProvider)
class IdentityProviderAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "protocol", "issuer", "bound_unit", "is_active", "local_passwords_off")
    readonly_fields = ("scim_token_hint",)
    inlines = (ClaimRuleInline,)


@admin.register(ExternalIdentity)
class ExternalIdentityAdmin(admin.ModelAdmin):
    list_display = ("username", "provider", "user", "subject", "last_sign_in_at")
    list_filter = ("provider",)
    raw_id_fields = ("user",)
    readonly_fields = ("scim_id",)


@admin.register(ScimGroup)
class ScimGroupAdmin(admin.ModelAdmin):
    list_display = ("display_name", "provider")
    list_filter = ("provider",)
    filter_horizontal = ("members",)


@admin.register(LocalPasswordPolicy)
class LocalPasswordPolicyAdmin(admin.ModelAdmin):
    list_display = ("unit", "created_at")
    raw_id_fields = ("unit",)


@admin.register(SamlRequest)
class SamlRequestAdmin(admin.ModelAdmin):
    list_display = ("request_id", "provider", "created_at")
    readonly_fields = ("request_id", "provider", "browser_key", "next_url", "created_at")
