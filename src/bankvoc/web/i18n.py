"""Every string the pages show, Chinese first: registered under the `ui` namespace."""

from __future__ import annotations

from bankvoc.core.i18n import register, t

UI: dict[str, tuple[str, str]] = {
    # Frame
    "app_name": ("BankVOC 客户之声", "BankVOC Voice of the Customer"),
    "skip": ("跳到正文", "Skip to content"),
    "nav": ("主导航", "Main navigation"),
    "nav.cases": ("投诉工单", "Cases"),
    "switch_to": ("English", "中文"),
    "switch_label": ("切换为英文界面", "Switch to Chinese"),
    "acting_as": ("当前用户", "Signed in as"),
    "demo_mode": ("演示模式", "Demo mode"),
    "times_in": ("时间均按 {tz} 时区显示", "Times are shown in {tz}"),
    # Case list
    "cases.title": ("投诉工单", "Cases"),
    "cases.caption": ("投诉工单列表，按受理时间倒序", "Cases, newest first"),
    "filters": ("筛选条件", "Filters"),
    "filter.apply": ("筛选", "Apply filters"),
    "filter.reset": ("清除条件", "Clear filters"),
    "filter.any": ("全部", "Any"),
    "filter.q": ("关键词", "Words"),
    "filter.q_hint": ("标题、内容或工单号", "Title, text or reference"),
    "filter.org_hint": ("机构代码，含下级机构", "Org code, with its sub-orgs"),
    "filter.received_from": ("受理日期起", "Received from"),
    "filter.received_to": ("受理日期止", "Received to"),
    "filter.limit": ("每页条数", "Rows per page"),
    "filter.error_title": ("筛选条件有误", "A filter is not valid"),
    "page.first": ("第一页", "First page"),
    "page.next": ("下一页", "Next page"),
    "page.paging": ("分页", "Pages"),
    "page.count": ("本页 {n} 条", "{n} on this page"),
    "page.last": ("已是最后一页", "This is the last page"),
    "cases.empty": ("没有符合条件的工单。", "No case matches these filters."),
    # Fields
    "field.reference": ("工单号", "Reference"),
    "field.received_at": ("受理时间", "Received at"),
    "field.kind": ("类型", "Kind"),
    "field.channel": ("渠道", "Channel"),
    "field.org": ("机构", "Org"),
    "field.product": ("产品", "Product"),
    "field.category": ("问题类别", "Category"),
    "field.severity": ("等级", "Severity"),
    "field.status": ("状态", "Status"),
    "field.title": ("标题", "Title"),
    "field.customer": ("客户", "Customer"),
    "field.amount": ("涉及金额", "Amount"),
    "field.due_at": ("办结时限", "Due"),
    "field.closed_at": ("办结时间", "Closed at"),
    "field.language": ("语言", "Language"),
    "field.merged_count": ("合并次数", "Merged repeats"),
    "field.version": ("版本", "Version"),
    "field.text": ("投诉内容（已脱敏）", "What the customer said (masked)"),
    "field.pii": ("个人信息", "Personal data"),
    "field.q": ("关键词", "Words"),
    "field.received_from": ("受理日期起", "Received from"),
    "field.received_to": ("受理日期止", "Received to"),
    "field.cursor": ("分页位置", "Page position"),
    "field.limit": ("每页条数", "Rows per page"),
    "field.source_system": ("来源系统", "Source system"),
    "field.source_id": ("来源编号", "Source id"),
    "field.row": ("行号", "Row"),
    "field.changed": ("变更字段", "Changed fields"),
    "field.decisions": ("自动判定", "Automatic decisions"),
    "none": ("—", "—"),
    "colon": ("：", ": "),
    "system": ("系统", "System"),
    # Case page
    "case.back": ("返回工单列表", "Back to the case list"),
    "case.facts": ("工单信息", "Case facts"),
    "case.annotations": ("自动判定", "Automatic decisions"),
    "case.annotations_empty": ("没有自动判定记录。", "No automatic decision recorded."),
    "case.decision": ("判定项", "Decision"),
    "case.value": ("结果", "Value"),
    "case.confidence": ("置信度", "Confidence"),
    "case.reason": ("依据", "Reason"),
    "case.source": ("来源", "Source"),
    "case.timeline": ("处理时间线", "Timeline"),
    "case.seq": ("序号", "No."),
    "case.at": ("时间", "Time"),
    "case.event": ("事件", "Event"),
    "case.actor": ("操作人", "By"),
    "case.details": ("详情", "Details"),
    "case.items": ("{n} 项", "{n} items"),
    "chain.ok": ("哈希链校验通过（{n} 个事件）", "Chain ok: {n} events verified"),
    "chain.broken": ("哈希链在第 {seq} 个事件处断开：{reason}",
                     "Chain broken at event {seq}: {reason}"),
    "chain.title": ("审计链校验", "Audit chain"),
    # Timeline event types
    "event.received": ("登记", "Registered"),
    "event.merged": ("重复投诉合并", "Repeat merged"),
    "event.source_updated": ("来源记录更新", "Source record updated"),
    # Errors
    "error.title": ("出错了", "Something went wrong"),
    "error.not_found": ("未找到", "Not found"),
    "error.not_found_text": ("找不到该页面或工单，或您无权查看。",
                             "This page or case does not exist, or it is not in your scope."),
    "error.forbidden": ("无权访问", "Not allowed"),
    "error.forbidden_text": ("您的角色无权查看此页面。", "Your role may not see this page."),
    "error.unauthorized": ("需要登录", "Log-in needed"),
    "error.unauthorized_text": (
        "登录功能尚未开放。请以演示模式运行（BANKVOC_DEMO=1），"
        "或在请求中携带 Authorization: Bearer 令牌。",
        "Log-in is not available yet. Run in demo mode (BANKVOC_DEMO=1) "
        "or send an Authorization: Bearer token.",
    ),
    "error.invalid_token": ("令牌无效或已吊销。", "The token is invalid or revoked."),
    "error.generic_text": ("请求无法完成：{message}",
                           "The request could not be completed: {message}"),
    "error.internal_text": ("系统内部错误，请稍后重试。",
                            "An internal error occurred. Please try again later."),
    "error.home": ("返回工单列表", "Go to the case list"),
    "error.choice": ("“{value}”不是可选值", "“{value}” is not one of the choices"),
    "error.date": ("“{value}”不是有效日期（格式 YYYY-MM-DD）",
                   "“{value}” is not a date (use YYYY-MM-DD)"),
    "error.date_order": ("起始日期晚于截止日期", "the start date is after the end date"),
    "error.too_long": ("不能超过 {max} 个字", "must be at most {max} characters"),
    "error.limit": ("应为 1 到 {max} 之间的整数", "must be a whole number from 1 to {max}"),
    "error.org_unknown": ("您的权限范围内没有机构代码“{value}”",
                          "no org with code “{value}” in your scope"),
    "error.cursor": ("分页位置无效，请从第一页开始",
                     "invalid page position; start from the first page"),
}

register("ui", UI)


def ui(key: str, lang: str, **params: object) -> str:
    """A UI string in `lang`, with `{name}` placeholders filled in."""
    text = t(f"ui.{key}", lang)
    return text.format(**params) if params else text


def label(namespace: str, code: str | None, lang: str) -> str:
    """The label of an enum value (`status`, `kind`, …); the code itself if none is known."""
    if not code:
        return ui("none", lang)
    return t(f"{namespace}.{code}", lang)
