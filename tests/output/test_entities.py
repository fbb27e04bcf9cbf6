"""Entity registry and constants (commands.md §3.1, §3.2, §4.1, §5)."""

from __future__ import annotations

import pytest

from imptsh import entities as E


def test_registry_names_and_collections() -> None:
    table = {k: (e.type_name, e.plural, e.collection) for k, e in E.ENTITIES.items()}
    assert table == {
        "product": ("Product", "Products", "/products"),
        "dg": ("Device Group", "Device Groups", "/devicegroups"),
        "device": ("Device", "Devices", "/devices"),
        "build": ("Deployment", "Deployments", "/deployments"),
        "loginkey": ("Login Key", "Login Keys", "/accounts/me/login_keys"),
        "account": ("Account", "Accounts", "/accounts"),
        "webhook": ("Webhook", "Webhooks", "/webhooks"),
    }
    assert E.entity("dg") is E.DG
    with pytest.raises(KeyError):
        E.entity("project")


def test_identification_order() -> None:
    assert E.DEVICE.ident_attrs == ("id", "mac_address", "agent_id", "name")
    assert E.BUILD.ident_attrs == ("id", "sha", "tags", "origin")
    assert E.ACCOUNT.ident_attrs == ("id", "email", "username")
    assert E.PRODUCT.ident_attrs == E.DG.ident_attrs == ("id", "name")
    assert E.LOGINKEY.ident_attrs == E.WEBHOOK.ident_attrs == ("id",)


def test_attr_matches() -> None:
    build = {"id": "b1", "attributes": {"tags": ["RC1", "x"], "origin": None, "sha": "ab"}}
    assert E.BUILD.attr_matches(build, "id", "b1")
    assert E.BUILD.attr_matches(build, "tags", "RC1")
    assert not E.BUILD.attr_matches(build, "tags", "rc1")
    assert not E.BUILD.attr_matches(build, "origin", "")
    assert not E.BUILD.attr_matches(build, "sha", "a")


def test_relationships() -> None:
    assert [(r.key, r.api_name, r.kind) for r in E.DG.info_relationships] == [
        ("Product", "product", "product"),
        ("Current Deployment", "current_deployment", "build"),
        ("Min supported Deployment", "min_supported_deployment", "build"),
        ("Production Target", "production_target", "dg"),
        ("DUT Target", "dut_target", "dg"),
        ("Owner", "owner", "account"),
        ("Creator", "creator", "account"),
    ]
    assert [r.key for r in E.DEVICE.list_relationships] == ["Device Group", "Owner"]
    assert E.ACCOUNT.list_relationships == E.LOGINKEY.list_relationships == ()
    corrupted = {r.key: r.corrupted_key for r in E.DEVICE.info_relationships}
    assert corrupted == {
        "Device Group": "Corrupted Device Group",
        "Product": "Corrupted Product",
        "Owner": "Owner",
        "Creator": "Creator",
    }


def test_dg_types() -> None:
    assert list(E.DG_TYPES) == [
        "development",
        "pre-factory",
        "pre-dut",
        "pre-production",
        "factory",
        "dut",
        "production",
    ]
    assert E.dg_api_type("pre-factory") == "pre_factoryfixture_devicegroup"
    assert E.dg_cli_type("factoryfixture_devicegroup") == "factory"
    assert E.dg_cli_type("nonsense") == "unknown"
    assert E.dg_cli_type(None) == "unknown"
    assert E.production_target_type("pre-factory") == "pre-production"
    assert E.dut_target_type("factory") == "dut"
    assert E.production_target_type("development") is None
    assert set(E.FACTORY_TYPES) | set(E.PRODUCTION_TYPES) | set(E.DUT_TYPES) < set(E.DG_TYPES)


def test_kind_of_api_type() -> None:
    assert E.kind_of_api_type("development_devicegroup") == "dg"
    assert E.kind_of_api_type("devicegroup") == "dg"
    assert E.kind_of_api_type("future_devicegroup") == "dg"
    assert E.kind_of_api_type("deployment") == "build"
    assert E.kind_of_api_type("login_key") == "loginkey"
    assert E.kind_of_api_type("account") == "account"
    with pytest.raises(KeyError):
        E.kind_of_api_type("project")


def test_webhook_and_output_constants() -> None:
    assert E.WEBHOOK_EVENTS == ("blessing", "blinkup", "deployment")
    assert list(E.WEBHOOK_MIME_TYPES) == ["json", "urlencoded"]
    assert E.content_type_of_mime("urlencoded") == "application/x-www-form-urlencoded"
    assert E.mime_of_content_type("application/json") == "json"
    assert E.mime_of_content_type("text/plain") == "unknown"
    assert E.OUTPUT_MODES == ("minimal", "json", "debug")
