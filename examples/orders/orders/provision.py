"""What an operator sets up once for the orders service, done through the SDK as an admin.

A role with exactly the scopes the service needs and a service account holding it, the bucket
for invoices, the confirmation email template and the feature flag. Every step leaves what
already exists alone, so `setup` can run again; each run issues a new service account.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

import grpc
from google.protobuf import struct_pb2

from centrum import sdk
from centrum.auth.v1 import auth_admin_service_pb2 as admin_pb
from centrum.auth.v1 import principal_pb2
from centrum.config.v1 import flag_service_pb2
from centrum.notification.v1 import notification_pb2, template_pb2, template_service_pb2
from centrum.storage.v1 import storage_service_pb2
from orders.service import ATTACH_INVOICE_FLAG, BUCKET, CONFIRMATION_TEMPLATE

__all__ = ["ROLE", "SCOPES", "flag_definition", "provision"]

ROLE = "orders-service"
"""The role of the orders service accounts."""
SCOPES = ("flags.read", "storage.write", "notify.send", "audit.write", "audit.read")
"""Everything the orders service calls needs, and nothing more."""

_TEXT = """Hello,

thank you for your order {{ order.id }} of {{ order.amount }} {{ order.currency }}.
{% if invoice.attached %}Your invoice is attached.{% else %}Your invoice is stored as \
{{ invoice.key }}.{% endif %}
"""


def _unless_exists(create: Callable[[], object]) -> None:
    try:
        create()
    except sdk.CentrumError as error:
        if error.code() != grpc.StatusCode.ALREADY_EXISTS:
            raise


def flag_definition(environment: str, *, attach_invoice: bool) -> flag_service_pb2.Flag:
    """The ATTACH_INVOICE_FLAG definition: enabled serves `on`, disabled serves `off`."""
    return flag_service_pb2.Flag(
        environment=environment,
        key=ATTACH_INVOICE_FLAG,
        description="Attach the invoice PDF to order confirmation emails.",
        enabled=attach_invoice,
        variant_type=flag_service_pb2.VARIANT_TYPE_BOOL,
        variants={
            "on": struct_pb2.Value(bool_value=True),
            "off": struct_pb2.Value(bool_value=False),
        },
        default_variant="on",
        off_variant="off",
        metadata={"owner": "orders"},
    )


def _role_id(admin: sdk.Client) -> str:
    try:
        created: admin_pb.CreateRoleResponse = admin.auth_admin.CreateRole(
            admin_pb.CreateRoleRequest(
                role=principal_pb2.Role(
                    name=ROLE, description="The orders example service.", scopes=list(SCOPES)
                )
            )
        )
        return created.role.id
    except sdk.CentrumError as error:
        if error.code() != grpc.StatusCode.ALREADY_EXISTS:
            raise
    found: admin_pb.GetRoleResponse = admin.auth_admin.GetRole(admin_pb.GetRoleRequest(name=ROLE))
    return found.role.id


def provision(
    admin: sdk.Client, *, environment: str = "production", attach_invoice: bool = True
) -> sdk.ClientCredentials:
    """Sets up the orders service through `admin`; returns the new service account's credentials.

    `admin` needs `auth.admin`, `storage.admin`, `notify.admin` and `flags.write` (the bootstrap
    admin has them all). The flag is created with `attach_invoice` when it does not exist yet.
    """
    _unless_exists(
        lambda: admin.storage.CreateBucket(storage_service_pb2.CreateBucketRequest(name=BUCKET))
    )
    _unless_exists(
        lambda: admin.templates.CreateTemplate(
            template_service_pb2.CreateTemplateRequest(
                template_id=CONFIRMATION_TEMPLATE,
                template=template_pb2.Template(
                    name="Order confirmation",
                    description="Sent by the orders service once an order is paid.",
                    channel=notification_pb2.CHANNEL_EMAIL,
                    category="transactional",
                    default_locale="en",
                    locales={
                        "en": template_pb2.TemplateVariant(
                            subject="Your order {{ order.id }}", text=_TEXT
                        )
                    },
                    required_variables=["order.id", "order.amount", "order.currency"],
                ),
            )
        )
    )
    _unless_exists(
        lambda: admin.flags.SetFlag(
            flag_service_pb2.SetFlagRequest(
                environment=environment,
                key=ATTACH_INVOICE_FLAG,
                flag=flag_definition(environment, attach_invoice=attach_invoice),
                create_only=True,
            )
        )
    )
    account: admin_pb.CreateServiceAccountResponse = admin.auth_admin.CreateServiceAccount(
        admin_pb.CreateServiceAccountRequest(
            service_account=principal_pb2.ServiceAccount(
                display_name=f"orders-{secrets.token_hex(3)}",
                description="The orders example service.",
                labels={"app": "orders"},
            ),
            role_ids=[_role_id(admin)],
        )
    )
    return sdk.ClientCredentials(account.service_account.client_id, account.client_secret)
