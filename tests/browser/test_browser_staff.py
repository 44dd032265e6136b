"""The staff accounts page in a real browser: an admin adds a receptionist, who logs in; the admin
disables the account and that person's open session ends; the admin cannot lock themselves out;
other roles are kept out. And anyone changes their own password from the name in the header."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .harness import UI_TIMEOUT_MS, LiveServer, NewContext, PageWatch, log_in, set_lang

pytestmark = pytest.mark.browser
expect.set_options(timeout=UI_TIMEOUT_MS)


def test_admin_adds_an_account_then_disables_it(live_server: LiveServer, new_context: NewContext) -> None:
    page = new_context().new_page()
    watch = PageWatch().attach(page)
    log_in(page, live_server, "admin", "/staff")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    form = page.locator("[data-slot=add]")
    form.locator("[name=username]").fill("web.zhou")
    form.locator("[name=display_name]").fill("前台 周洁")
    form.locator("[name=role]").select_option("receptionist")
    form.locator("[name=password]").fill("zhou-front-1")
    form.locator("button[type=submit]").click()
    expect(page.locator("[data-slot=status]")).to_have_text("已添加账号 web.zhou")
    row = page.locator('[data-slot=rows] tr[data-user="web.zhou"]')
    expect(row).to_have_attribute("data-active", "true")
    expect(row.locator("select")).to_have_value("receptionist")

    desk = new_context().new_page()
    desk.goto(live_server.url("/frontdesk"))
    desk.fill("input[name=username]", "web.zhou")
    desk.fill("input[name=password]", "zhou-front-1")
    desk.click("button[type=submit]")
    desk.wait_for_url(live_server.url("/frontdesk"), wait_until="commit")
    assert desk.request.get(live_server.url("/api/v1/me")).status == 200

    row.locator("[data-action=disable]").click()
    expect(page.locator("[data-slot=status]")).to_have_text("web.zhou 已停用，其已登录设备已退出")
    expect(row).to_have_attribute("data-active", "false")
    assert desk.request.get(live_server.url("/api/v1/me")).status == 401
    # a new tab with the same cookie (the open one's own script may be sending it to the login already)
    again = desk.context.new_page()
    again.goto(live_server.url("/frontdesk"))
    expect(again).to_have_url(live_server.url("/login?next=/frontdesk"))

    set_lang(page, "en")
    expect(row.locator("[data-action=enable]")).to_have_text("Enable")
    expect(page.locator('[data-slot=rows] tr[data-user="admin"] [data-action=disable]')).to_be_disabled()
    assert watch.problems == [], "\n".join(watch.problems)

    form.locator("[name=username]").fill("web.zhou")
    form.locator("[name=display_name]").fill("x")
    form.locator("[name=password]").fill("zhou-front-1")
    form.locator("button[type=submit]").click()
    expect(page.locator("[data-slot=status]")).to_contain_text("Not saved: 用户 web.zhou 已存在")


def test_only_admins_open_the_staff_page(live_server: LiveServer, new_context: NewContext) -> None:
    page = new_context().new_page()
    log_in(page, live_server, "manager", "/dashboard")
    page.goto(live_server.url("/staff"))
    expect(page).to_have_url(live_server.url("/login?next=/staff&denied=1"))
    assert page.request.get(live_server.url("/api/v1/staff")).status == 403


def test_staff_change_their_own_password_from_the_header(
    live_server: LiveServer, new_context: NewContext
) -> None:
    admin = new_context().new_page()
    log_in(admin, live_server, "admin", "/staff")
    account = {
        "username": "adv.ma",
        "display_name": "续保专员 马",
        "role": "advisor",
        "password": "advisor-ma-1",
    }
    assert admin.request.post(live_server.url("/api/v1/staff"), data=account).status == 201

    def sign_in(page_password: str) -> Page:
        page = new_context().new_page()
        page.goto(live_server.url("/advisor"))
        page.fill("input[name=username]", "adv.ma")
        page.fill("input[name=password]", page_password)
        page.click("button[type=submit]")
        page.wait_for_url(live_server.url("/advisor"), wait_until="commit")
        return page

    tablet, phone = sign_in("advisor-ma-1"), sign_in("advisor-ma-1")
    watch = PageWatch().attach(tablet)
    tablet.locator("[data-slot=user] a.topbar__account").click()
    tablet.wait_for_url(live_server.url("/account"))
    form = tablet.locator("[data-slot=form]")
    form.locator("[name=current]").fill("advisor-ma-1")
    form.locator("[name=new]").fill("advisor-ma-2")
    form.locator("[name=confirm]").fill("advisor-ma-3")
    form.locator("button[type=submit]").click()
    notice = tablet.locator("[data-slot=notice]")
    expect(notice).to_have_text("两次输入的新密码不一致")
    form.locator("[name=confirm]").fill("advisor-ma-2")
    form.locator("button[type=submit]").click()
    expect(notice).to_have_text("新密码已生效；您在其他设备上的登录已退出")
    set_lang(tablet, "en")
    expect(notice).to_have_text("The new password is in effect; you are logged out on your other devices")
    assert watch.problems == [], "\n".join(watch.problems)
    assert tablet.request.get(live_server.url("/api/v1/me")).status == 200
    assert phone.request.get(live_server.url("/api/v1/me")).status == 401
    sign_in("advisor-ma-2")
