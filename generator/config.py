"""What varies between template variants: the form, the role family, options for one's own launch role."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from generator.constants import FORMS, ROLE_FAMILIES, ROLE_KINDS, Form, RoleFamily, variant_name


class ConfigError(ValueError):
    """A TemplateConfig that cannot be rendered; the message names the field and how to fix it."""


@dataclass(frozen=True)
class TemplateConfig:
    """One template variant.

    form: "v1" (the walkthrough's Studio form: URL, branch, full name, connection, Sample Code per
    repository) or "v2" (today's built-in form: one CodeConnectionArn, no URL, no toggle, always seeds).
    role_family: which of Studio's role families the template references (a launch role passes only its own).
    own_launch_role: the product is launched with a launch role of the user's own, not Studio's default;
    only then may the template use explicit role ARNs, bucket versioning or a KMS key (the default launch
    role lacks iam:PassRole on other roles, s3:PutBucketVersioning and every kms: action).
    all_conditions_on: every condition evaluates to true (for scanners that read parameter defaults only).
    """

    form: Form = "v1"
    role_family: RoleFamily = "service-catalog"
    own_launch_role: bool = False
    role_arns: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    bucket_versioning: bool = False
    kms_key_arn: str | None = None
    all_conditions_on: bool = False

    def __post_init__(self) -> None:
        if self.form not in FORMS:
            raise ConfigError(f"form: {self.form!r} is not a known form; use one of {', '.join(FORMS)}")
        if self.role_family not in ROLE_FAMILIES:
            raise ConfigError(
                f"role_family: {self.role_family!r} is unknown; use one of {', '.join(ROLE_FAMILIES)}"
            )
        unknown = sorted(set(self.role_arns) - set(ROLE_KINDS))
        if unknown:
            raise ConfigError(
                f"role_arns: unknown role kind(s) {', '.join(unknown)}; use keys of {', '.join(ROLE_KINDS)}"
            )
        for kind, arn in self.role_arns.items():
            if not (isinstance(arn, str) and arn.startswith("arn:") and ":iam::" in arn and ":role/" in arn):
                raise ConfigError(
                    f"role_arns[{kind!r}]: {arn!r} is not an IAM role ARN; "
                    "give arn:<partition>:iam::<account>:role/<name>"
                )
        needs_own = [field for field, _ in self.own_role_options()]
        if needs_own and not self.own_launch_role:
            raise ConfigError(
                f"{', '.join(needs_own)}: needs own_launch_role=True; Studio's default launch role cannot "
                "pass other roles, turn on versioning or use KMS, so such a template fails at provisioning"
            )
        if self.kms_key_arn is not None and not (
            self.kms_key_arn.startswith("arn:") and ":kms:" in self.kms_key_arn
        ):
            raise ConfigError(
                f"kms_key_arn: {self.kms_key_arn!r} is not a KMS key ARN; give arn:<partition>:kms:<region>:"
                "<account>:key/<id>"
            )
        object.__setattr__(self, "role_arns", MappingProxyType(dict(self.role_arns)))

    def own_role_options(self) -> list[tuple[str, str]]:
        """The options in use that Studio's default launch role cannot provision: (field, what it is)."""
        options = (
            ("role_arns", "explicit role ARNs", bool(self.role_arns)),
            ("bucket_versioning", "bucket versioning", self.bucket_versioning),
            ("kms_key_arn", "a KMS key", self.kms_key_arn is not None),
        )
        return [(name, what) for name, what, used in options if used]


# The variants `python -m generator render` writes (docs/DESIGN.md "Template variants").
VARIANTS: dict[str, TemplateConfig] = {
    variant_name(form, family): TemplateConfig(form=form, role_family=family)
    for family in ROLE_FAMILIES
    for form in FORMS
}
