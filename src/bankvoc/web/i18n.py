"""Every string the pages show, Chinese first: registered under the `ui` namespace."""

from __future__ import annotations

from bankvoc.core.i18n import register, t
from bankvoc.web.i18n_admin import ADMIN_UI
from bankvoc.web.i18n_auth import AUTH_UI
from bankvoc.web.i18n_branches import BRANCHES_UI
from bankvoc.web.i18n_config import CONFIG_UI
from bankvoc.web.i18n_contact import CONTACT_UI
from bankvoc.web.i18n_new_case import NEW_CASE_UI
from bankvoc.web.i18n_people import PEOPLE_UI
from bankvoc.web.i18n_portal import PORTAL_UI
from bankvoc.web.i18n_qa import QA_UI
from bankvoc.web.i18n_servicedata import SERVICEDATA_UI
from bankvoc.web.i18n_voc import VOC_UI

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
    "error.forbidden_action_text": ("您的角色无权执行此操作。", "Your role may not do this."),
    "error.unauthorized": ("需要登录", "Log-in needed"),
    "error.unauthorized_text": ("请先登录。", "Log in first."),
    "error.invalid_token": ("令牌无效或已吊销。", "The token is invalid or revoked."),
    "error.generic_text": ("请求无法完成：{message}",
                           "The request could not be completed: {message}"),
    "error.internal_text": ("系统内部错误，请稍后重试。",
                            "An internal error occurred. Please try again later."),
    "error.unavailable": ("系统暂时不可用", "Temporarily unavailable"),
    "error.unavailable_text": ("数据库暂时无法访问，请稍后重试。",
                               "The database cannot be reached just now. Please try again in "
                               "a moment."),
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

# The case workflow: inbox, views, bulk assignment, the case page's steps, regulator transfers.
WORKFLOW_UI: dict[str, tuple[str, str]] = {
    # Navigation
    "nav.regulator": ("监管转办", "Regulator transfers"),
    "nav.callbacks": ("回访队列", "Callback queue"),
    # Common words
    "yes": ("是", "Yes"),
    "no": ("否", "No"),
    "choose": ("请选择", "Choose…"),
    "by_load": ("按工作量自动分派", "By workload (automatic)"),
    "unassigned": ("未分派", "Unassigned"),
    "problem.detail": ("系统说明", "System says"),
    # Views
    "views": ("视图", "Views"),
    "views.builtin": ("常用视图", "Built-in views"),
    "views.mine": ("我保存的视图", "My saved views"),
    "views.none": ("还没有保存的视图：设好筛选条件后，在下方起个名字保存。",
                   "No saved view yet: set the filters, then name and save them below."),
    "views.save_label": ("把当前筛选条件保存为视图", "Save the current filters as a view"),
    "views.name_hint": ("视图名称", "View name"),
    "views.save": ("保存视图", "Save view"),
    "views.delete": ("删除视图“{name}”", "Delete the view “{name}”"),
    "view.all": ("全部工单", "All cases"),
    "view.mine": ("我的工单", "Assigned to me"),
    "view.unassigned": ("待分派", "Waiting for a handler"),
    "view.soon": ("3 日内到期", "Due within 3 days"),
    "view.overdue": ("已超期", "Overdue"),
    "view.name": ("视图名称", "View name"),
    "view_error.required": ("请填写视图名称", "give the view a name"),
    "view_error.too_long": ("不能超过 {max} 个字", "must be at most {max} characters"),
    "view_error.duplicate": ("已有同名视图，请换一个名称", "you have a view of that name already: "
                             "choose another name"),
    "view_error.query_too_long": ("筛选条件太长，无法保存（最多 {length} 个字符），请减少条件",
                                  "these filters are too long to save (at most {length} "
                                  "characters): use fewer"),
    "view_error.too_many": ("最多保存 {count} 个视图，请先删除不用的视图",
                            "you can keep {count} views at most: delete one first"),
    # Filters
    "filter.assignee_me": ("分派给我的", "Assigned to me"),
    "filter.assignee_none": ("尚未分派", "Nobody assigned"),
    "filter.due_overdue": ("已超期", "Overdue"),
    "filter.due_soon": ("3 日内到期", "Due within 3 days"),
    "filter.origin_regulator": ("全部监管转办", "Any regulator"),
    "filter.any_regulator": ("全部监管来源", "Any regulator"),
    "error.org_missing": ("没有机构代码“{value}”", "no org with code “{value}”"),
    # Fields of the workflow
    "field.assignee": ("处理人", "Handler"),
    "field.handling_org": ("处理机构", "Handling org"),
    "field.origin": ("来源", "Origin"),
    "field.origin_reference": ("监管编号", "Regulator reference"),
    "field.first_responder": ("首问负责人", "First responder"),
    "field.transfer_count": ("转办次数", "Transfers"),
    "field.escalation_level": ("升级级别", "Escalation level"),
    "field.reopen_count": ("重新处理次数", "Reopened"),
    "field.decision": ("处理决定", "Decision"),
    "field.approval": ("审批", "Approval"),
    "field.clock": ("计时", "Clock"),
    "field.due": ("办结时限", "Due"),
    "field.decision_amount": ("方案金额", "Amount decided"),
    "field.sentiment": ("情绪倾向", "Sentiment"),
    # Event data
    "field.subject_user": ("被投诉员工", "Employee complained about"),
    "field.subject_org": ("被投诉网点", "Outlet complained about"),
    "field.reason": ("原因", "Reason"),
    "field.queue": ("处理队列", "Queue"),
    "field.how": ("分派方式", "How"),
    "field.from_org": ("原处理机构", "From"),
    "field.to_org": ("转至机构", "To"),
    "field.transfers": ("累计转办", "Transfers so far"),
    "field.user": ("人员", "User"),
    "field.customer_id": ("客户编号", "Customer id"),
    "field.representative": ("代表", "Representative"),
    "field.note_kind": ("记录类型", "Kind of note"),
    "field.note_text": ("记录内容", "Note"),
    "field.basis": ("处理依据", "Basis"),
    "field.needs_approval": ("需审批", "Needs approval"),
    "field.authority": ("本人权限", "Own authority"),
    "field.comment": ("意见", "Comment"),
    "field.told_via": ("告知方式", "Told via"),
    "field.told_at": ("告知时间", "Told at"),
    "field.summary": ("内容摘要", "Summary"),
    "field.via": ("沟通方式", "Via"),
    "field.satisfied": ("客户满意", "Satisfied"),
    "field.reopened": ("累计重新处理", "Times reopened"),
    "field.level": ("级别", "Level"),
    "field.approved_by": ("审批人", "Approved by"),
    "field.paused_days": ("中止天数", "Days paused"),
    "field.pause_reason": ("中止原因", "Why paused"),
    "field.into": ("并入工单", "Merged into"),
    "field.case": ("工单", "Case"),
    "field.arrived_on": ("撤诉到达日期", "Withdrawal arrived on"),
    "field.from": ("原状态", "From"),
    "field.to": ("新状态", "To"),
    "field.old_value": ("原值", "Old value"),
    "field.new_value": ("新值", "New value"),
    "field.corrected_field": ("更正项", "Corrected"),
    "field.attachment_id": ("附件编号", "Attachment"),
    "field.filename": ("文件名", "File"),
    "field.source": ("来源", "Source"),
    # Timeline event types
    "event.accept": ("受理", "Accepted"),
    "event.refuse": ("不予受理", "Not accepted"),
    "event.assign": ("分派", "Assigned"),
    "event.investigate": ("开始调查", "Investigation started"),
    "event.note": ("调查记录", "Note"),
    "event.propose": ("提出处理方案", "Decision proposed"),
    "event.approve": ("审批通过", "Decision approved"),
    "event.resolve": ("告知处理决定", "Decision told"),
    "event.tell": ("与客户沟通", "Customer contacted"),
    "event.customer_answer": ("客户反馈", "Customer answered"),
    "event.close": ("办结", "Closed"),
    "event.archive": ("归档", "Archived"),
    "event.reopen": ("重新处理", "Reopened"),
    "event.transfer": ("转办", "Transferred"),
    "event.add_cohandler": ("增加协办", "Co-handler added"),
    "event.add_complainant": ("增加投诉人", "Complainant added"),
    "event.escalate": ("升级", "Escalated"),
    "event.extend": ("延期", "Extended"),
    "event.pause": ("中止计时", "Clock paused"),
    "event.resume": ("恢复计时", "Clock resumed"),
    "event.merge": ("合并", "Merged"),
    "event.merged_in": ("并入重复工单", "Case merged in"),
    "event.withdraw": ("撤回", "Withdrawn"),
    "event.corrected": ("更正判定", "Decision corrected"),
    "event.attachment_added": ("上传附件", "Attachment added"),
    "event.attachment_refused": ("附件被拒收", "Attachment refused"),
    "event.channel_note": ("渠道备注", "Channel note"),
    "event.sla_warning": ("时限预警", "Deadline warning"),
    "event.sla_escalation": ("超时升级", "Overdue escalation"),
    "field.alarm_to": ("通知对象", "Told"),
    "field.percent": ("时限已用(%)", "Time used (%)"),
    "field.notified": ("已通知", "Notified"),
    "field.unreachable": ("无联系方式", "No address on file"),
    "field.superseded": ("一并处理的提醒数", "Earlier alarms included"),
    "chain.handler": ("经办人", "Handler"),
    "chain.team_lead": ("组长", "Team lead"),
    "chain.branch_manager": ("机构负责人", "Branch manager"),
    "chain.head_office_consumer_protection": ("总行消保部", "Head-office consumer protection"),
    "sla_clock.decision": ("处理决定告知", "Decision told"),
    "sla_clock.first_contact": ("首次联系客户", "First contact"),
    "sla_clock.response": ("响应", "Response"),
    "sla_clock.solution": ("解决方案", "Solution"),
    "sla_clock.feedback": ("意见反馈答复", "Answer to feedback"),
    # Coded values in forms and on the timeline
    "note_kind.investigation": ("调查记录", "Investigation"),
    "note_kind.dispute_focus": ("争议焦点", "Dispute focus"),
    "note_kind.finding": ("调查结论", "Finding"),
    "note_kind.basis": ("处理依据", "Basis"),
    "note_kind.evidence": ("证据", "Evidence"),
    "via.phone": ("电话", "Phone"),
    "via.sms": ("短信", "SMS"),
    "via.letter": ("信函", "Letter"),
    "via.email": ("电子邮件", "E-mail"),
    "via.in_person": ("当面", "In person"),
    "via.wechat": ("微信", "WeChat"),
    "via.app": ("手机银行", "Mobile app"),
    "pause_reason.appraisal": ("鉴定", "Appraisal"),
    "pause_reason.testing": ("检测", "Testing"),
    "pause_reason.evaluation": ("评估", "Evaluation"),
    "how.by load": ("按工作量", "By workload"),
    "how.by hand": ("指定", "By hand"),
    # The deadline countdown: words as well as colours
    "due.until": ("时限 {due}", "due {due}"),
    "due.ok": ("充裕 · 剩余 {span}", "On track · {span} left"),
    "due.warn": ("过半 · 剩余 {span}", "Past half · {span} left"),
    "due.danger": ("紧迫 · 剩余 {span}", "Urgent · {span} left"),
    "due.overdue": ("已超期 {span}", "Overdue by {span}"),
    "due.paused": ("计时中止", "Clock paused"),
    "span.days_hours": ("{d} 天 {h} 小时", "{d} d {h} h"),
    "span.hours": ("{h} 小时", "{h} h"),
    "span.minutes": ("{m} 分钟", "{m} min"),
    # Bulk assignment
    "bulk.title": ("批量分派", "Bulk assign"),
    "bulk.user": ("分派给", "Assign to"),
    "bulk.submit": ("分派所选工单", "Assign the ticked cases"),
    "bulk.note": ("勾选下表中的工单；每个工单单独处理，结果逐一列出。",
                  "Tick cases below; each is assigned on its own and reported one by one."),
    "bulk.pick": ("选择", "Pick"),
    "bulk.pick_one": ("选择工单 {reference}", "Pick case {reference}"),
    "bulk.cases": ("所选工单", "Ticked cases"),
    "bulk.none_picked": ("请至少勾选一个工单", "tick at least one case"),
    "bulk.too_many": ("一次最多分派 {max} 个工单", "at most {max} cases at a time"),
    "bulk.user_unknown": ("“{value}”不是您权限范围内可处理工单的人员",
                          "“{value}” is not someone in your scope who works cases"),
    "bulk.report": ("批量分派结果：成功 {done} 件，未分派 {refused} 件",
                    "Bulk assignment: {done} assigned, {refused} refused"),
    "bulk.ok": ("成功", "Assigned"),
    "bulk.refused": ("未分派", "Refused"),
    "bulk.not_found": ("找不到该工单，或您无权查看", "no such case in your scope"),
    "bulk.assigned": ("已分派给 {user}", "assigned to {user}"),
    # Regulator transfers
    "regulator.title": ("监管转办", "Regulator transfers"),
    "regulator.lead": ("金融监管总局、人民银行及 12378、12345 热线转来的投诉，须按时办理并回复。",
                       "Complaints passed on by NFRA, the PBoC and the 12378 and 12345 "
                       "hotlines: answer them on time."),
    "regulator.caption": ("监管转办工单，按受理时间倒序", "Regulator transfers, newest first"),
    "regulator.empty": ("没有符合条件的监管转办工单。", "No regulator transfer matches."),
    # The case page's workflow
    "case.handling": ("办理情况", "Handling"),
    "steps.title": ("办理操作", "Next steps"),
    "steps.version": ("第 {version} 版", "Version {version}"),
    "steps.none": ("当前状态下没有您可以执行的操作。", "There is no step you can take now."),
    "steps.more": ("更多操作", "More steps"),
    "step.done": ("已完成“{action}”。", "Done: {action}."),
    "approval.not_needed": ("无需审批（在处理人权限内）", "Not needed (within authority)"),
    "approval.pending": ("待审批", "Awaiting approval"),
    "approval.given": ("已审批（{by}）", "Approved by {by}"),
    "clock.running": ("计时中", "Running"),
    "clock.stopped": ("已停止（决定已告知或工单已结束）", "Stopped (decision told or case ended)"),
    "clock.paused": ("已中止计时", "Paused"),
    "clock.paused_since": ("自 {since} 中止（{reason}）", "Paused since {since} ({reason})"),
    # Why a step was refused, and what to do
    "step_error.illegal_transition": (
        "工单当前为“{status}”，不能执行“{action}”。现在可以：{possible}",
        "The case is “{status}”: “{action}” is not possible now. Possible: {possible}"),
    "step_error.stale_version": (
        "工单已被他人更新（您看到的是第 {seen} 版，现在是第 {now} 版）。下方已是最新内容，"
        "请核对后重新提交。",
        "Someone changed the case meanwhile (you saw version {seen}, it is now {now}). The "
        "page now shows the latest: check it and submit again."),
    "step_error.conflict_of_interest": ("该人员或机构与投诉有关，须回避，请另选",
                                        "must stand aside from this case (conflict of "
                                        "interest): choose someone else"),
    "step_error.approval_needed": ("处理方案金额超出权限，须先审批再告知客户",
                                   "the decision exceeds the proposer's authority: it needs "
                                   "an approval before the customer is told"),
    "step_error.extension_limit": ("已延期两次，不能再延期（最长 60 日）",
                                   "extended twice already (60 days at most)"),
    "step_error.paused": ("计时已处于中止状态", "the clock is paused already"),
    "step_error.not_paused": ("计时未中止，无需恢复", "the clock is not paused"),
    "step_error.forbidden": ("您的角色无权执行此操作", "your role may not take this step"),
    "step_error.refused": ("操作未执行，请按系统说明修改后重试",
                           "the step was not taken: see what the system says, fix it and "
                           "try again"),
    "step_error.rule": ("填写的内容不完整，请按系统说明补充",
                        "something is missing: see what the system says"),
    "step_error.rule.propose.amount": ("退款或赔偿须填写大于 0 的金额",
                                       "a refund or compensation needs an amount above 0"),
    "step_error.rule.propose.reason": ("不予支持须说明理由", "a refused decision needs its reason"),
    "step_error.rule.add_complainant.phone": ("请填写电话或证件号码（至少一项）",
                                              "give a phone number or an ID number"),
    "step_error.required": ("必填", "is required"),
    "step_error.too_long": ("不能超过 {max} 个字", "must be at most {max} characters"),
    "step_error.amount": ("请填写金额，如 200 或 1280.50（最多两位小数）",
                          "give an amount such as 200 or 1280.50 (two decimals at most)"),
    "step_error.not_negative": ("不能为负数", "must not be negative"),
    "step_error.choice": ("“{value}”不是可选值", "“{value}” is not one of the choices"),
    "step_error.date": ("“{value}”不是有效日期（格式 YYYY-MM-DD）",
                        "“{value}” is not a date (use YYYY-MM-DD)"),
    "step_error.datetime": ("“{value}”不是有效时间", "“{value}” is not a date and time"),
    "step_error.version": ("页面版本信息缺失，请刷新页面后重试",
                           "the page's version is missing: reload the page and try again"),
    "step_error.invalid": ("填写有误，请按系统说明修改", "not valid: see what the system says"),
    "step_error.not_found": ("找不到“{value}”", "“{value}” does not exist"),
    # Labels of the step forms' inputs (input.<action>.<name> first, then input.<name>)
    "input.subject_user": ("被投诉员工（用户名）", "Employee complained about (user name)"),
    "input.subject_org": ("被投诉网点（机构代码）", "Outlet complained about (org code)"),
    "input.reason": ("原因", "Reason"),
    "input.user": ("处理人", "Handler"),
    "input.kind": ("类型", "Kind"),
    "input.text": ("内容", "Text"),
    "input.decision": ("处理决定", "Decision"),
    "input.amount": ("金额（元）", "Amount (CNY)"),
    "input.basis": ("处理依据", "Basis"),
    "input.comment": ("意见", "Comment"),
    "input.told_via": ("告知方式", "Told via"),
    "input.told_at": ("告知时间", "Told at"),
    "input.summary": ("内容摘要", "Summary"),
    "input.via": ("沟通方式", "Via"),
    "input.satisfied": ("客户是否满意", "Is the customer satisfied?"),
    "input.to_org": ("转至机构（代码）", "Transfer to (org code)"),
    "input.org": ("机构代码", "Org code"),
    "input.due_at": ("时限", "Due"),
    "input.name": ("姓名", "Name"),
    "input.phone": ("电话", "Phone"),
    "input.id_number": ("证件号码", "ID number"),
    "input.representative": ("作为代表（最多 5 名）", "Representative (5 at most)"),
    "input.approved_by": ("审批人（用户名）", "Approved by (user name)"),
    "input.note": ("说明", "Note"),
    "input.into": ("并入工单号", "Merge into (reference)"),
    "input.arrived_on": ("撤诉到达日期", "Withdrawal arrived on"),
    "input.refuse.reason": ("不予受理的理由", "Why it is not accepted"),
    "input.note.kind": ("记录类型", "Kind of note"),
    "input.note.text": ("记录内容", "Note"),
    "input.propose.reason": ("不予支持的理由", "Why it is refused"),
    "input.approve.comment": ("审批意见", "Approver's comment"),
    "input.resolve.summary": ("告知内容", "What the customer was told"),
    "input.tell.summary": ("沟通内容", "What was said"),
    "input.customer_answer.comment": ("客户意见", "Customer's words"),
    "input.reopen.reason": ("重新处理的原因", "Why it is reopened"),
    "input.transfer.reason": ("转办原因", "Why it is transferred"),
    "input.add_cohandler.org": ("协办机构（代码）", "Co-handling org (code)"),
    "input.add_cohandler.user": ("协办人（用户名，可不填）", "Co-handler (user name, optional)"),
    "input.add_cohandler.due_at": ("协办时限（可不填，默认同工单时限）",
                                   "Due (optional; the case's own by default)"),
    "input.escalate.reason": ("升级原因", "Why it is escalated"),
    "input.extend.reason": ("延期原因（将告知客户）", "Why it needs longer (the customer is told)"),
    "input.pause.reason": ("中止原因", "Why the clock stops"),
    "input.withdraw.reason": ("撤诉说明", "Note on the withdrawal"),
    "input.answer_regulator.via": ("回复方式", "Sent by"),
    "input.answer_regulator.summary": ("回复监管的内容", "What the bank answered"),
    "input.answer_regulator.reference": ("回复文号（可不填）", "Answer reference (optional)"),
    "regulator_via.platform": ("监管投诉处理平台", "The regulator's case platform"),
    "regulator_via.letter": ("公函", "Letter"),
    "regulator_via.email": ("电子邮件", "E-mail"),
    "regulator_via.fax": ("传真", "Fax"),
    "regulator_via.phone": ("电话", "Phone"),
    "event.answer_regulator": ("回复监管", "Regulator answered"),
    # Hints next to inputs and forms
    "hint.assign.user": ("不选则在处理机构内按工作量自动分派",
                         "Leave it to assign by workload within the handling org"),
    "hint.propose.amount": ("退款、赔偿须填写；超出本人权限的金额须审批",
                            "For refunds and compensation; above your authority it needs an "
                            "approval"),
    "hint.extend.approved_by": ("第二次延期须上级机构或总行高级管理人员批准",
                                "A second extension needs the superior office's or a "
                                "head-office senior manager's approval"),
    "hint.resolve.told_at": ("不填则为现在", "Empty: now"),
    "hint.withdraw.arrived_on": ("不填则为今天；计时在这一天停止",
                                 "Empty: today; the clock stops that day"),
    "hint.accept": ("被投诉的员工和网点将回避处理本工单（可不填）",
                    "The employee and outlet complained about stand aside (optional)"),
    "hint.add_complainant": ("群体投诉：须填写电话或证件号码", "Group complaints: give a phone or "
                             "an ID number"),
}
UI.update(WORKFLOW_UI)

# The callback queue (回访队列): after a decision is told, the customer is called back.
CALLBACK_UI: dict[str, tuple[str, str]] = {
    "callbacks.title": ("回访队列", "Callback queue"),
    "callbacks.lead": (
        "处理决定告知客户后进行回访：重大、紧急和监管转办工单逐一回访，其余按比例抽样。"
        "客户不满意或问题未解决的，工单将重新处理并升级。",
        "Customers are called back once told the decision: every major, urgent and regulator-"
        "transferred case, and a sample of the rest. An unhappy or unsolved answer reopens the "
        "case and escalates it."),
    "callbacks.caption": ("回访列表，按回访时限排序，最早到期的在前",
                          "Callbacks by due time, soonest first"),
    "callbacks.empty": ("没有符合条件的回访。", "No callback matches these filters."),
    "callbacks.capped": ("只显示按时限排在最前的 {n} 条。", "Only the first {n} by due time are "
                         "shown."),
    "callbacks.overdue_only": ("只看超时的（待回访已过时限，或晚于时限才完成）",
                               "Overdue only (past due, or done after it)"),
    "callbacks.open_case": ("查看工单 {reference}", "Open case {reference}"),
    "callbacks.record": ("记录回访结果", "Record the result"),
    "callbacks.record_for": ("记录工单 {reference} 的回访结果",
                             "Record the callback result of case {reference}"),
    "callbacks.submit": ("提交回访结果", "Save the result"),
    "callbacks.fix": ("有 {n} 项需要修改：", "{n} to fix:"),
    "callbacks.read_only": ("您的角色只能查看回访，不能记录结果。",
                            "Your role may see callbacks but not record their results."),
    "callbacks.reopened_tag": ("已重新处理", "Reopened"),
    "callbacks.round_n": ("第 {n} 轮", "Round {n}"),
    "callbacks.told_line": ("{via}告知 · {at}", "Told by {via} · {at}"),
    "callbacks.result_line": ("满意度 {csat} · 推荐 {nps} · {solved}",
                              "CSAT {csat} · NPS {nps} · {solved}"),
    "callbacks.unreachable_line": ("未联系上客户", "Customer not reached"),
    "callbacks.completed": ("记录于 {at}", "Recorded {at}"),
    # Column headings and filter labels
    "field.callback_status": ("回访状态", "Callback status"),
    "field.callback_reason": ("回访原因", "Why called back"),
    "field.callback_due": ("回访时限", "Call back by"),
    "field.round": ("轮次", "Round"),
    "field.case_status": ("工单状态", "Case status"),
    "field.decision_told": ("告知的处理决定", "Decision told"),
    "field.callback_result": ("回访结果", "Result"),
    "field.overdue": ("只看超时的", "Overdue only"),
    # Callback statuses
    "callback_status.pending": ("待回访", "To call back"),
    "callback_status.done": ("已回访", "Done"),
    "callback_status.unreachable": ("联系不上", "Not reached"),
    "callback_status.skipped": ("不回访（未抽中）", "Not called (not sampled)"),
    # Why a callback was (not) scheduled
    "callback_reason.severity": ("{severity}工单：逐一回访", "{severity} case: always called "
                                 "back"),
    "callback_reason.regulator": ("{origin}：逐一回访", "{origin}: always called back"),
    "callback_reason.sample": ("抽样回访（抽样比例 {percent}%）", "In the {percent}% sample"),
    "callback_reason.not_sampled": ("未抽中（抽样比例 {percent}%）",
                                    "Not in the {percent}% sample"),
    # The result form
    "callback_input.reached": ("是否联系上客户", "Was the customer reached?"),
    "callback_input.reached_yes": ("已联系上客户", "Reached"),
    "callback_input.reached_no": ("联系不上（本次回访结束）", "Not reached (ends this callback)"),
    "callback_input.csat": ("满意度（1–5）", "Satisfaction, CSAT (1–5)"),
    "callback_input.nps": ("推荐意愿（0–10，可不填）", "Would recommend, NPS (0–10, optional)"),
    "callback_input.solved": ("问题是否已解决", "Is the problem solved?"),
    "callback_input.solved_yes": ("是，已解决", "Yes, solved"),
    "callback_input.solved_no": ("否，未解决", "No, not solved"),
    "callback_input.comment": ("客户意见（可不填）", "Customer's words (optional)"),
    "callback_hint.csat": ("1 = 非常不满意，5 = 非常满意；2 分及以下视为不满意，工单将重新处理",
                           "1 = very unhappy, 5 = very happy; 2 or less counts as unhappy and "
                           "reopens the case"),
    "callback_hint.comment": ("电话号码、证件号等个人信息保存时自动脱敏",
                              "Phone and ID numbers are masked when saved"),
    # What to fix in the result form
    "callback_error.required": ("请填写：{low} 到 {high} 的整数",
                                "give a whole number from {low} to {high}"),
    "callback_error.range": ("“{value}”超出范围：请填 {low} 到 {high} 的整数",
                             "“{value}” is out of range: give a whole number from {low} to "
                             "{high}"),
    "callback_error.integer": ("“{value}”不是整数：请填 {low} 到 {high} 的整数",
                               "“{value}” is not a whole number: give one from {low} to {high}"),
    "callback_error.solved": ("请选择问题是否已解决", "say whether the problem is solved"),
    "callback_error.choice": ("请从选项中选择", "pick one of the choices"),
    "callback_error.too_long": ("不能超过 {max} 个字", "must be at most {max} characters"),
    "callback_error.unreachable": (
        "选择“联系不上”时不记录评分、是否解决和意见：请清空这些内容，或改选“已联系上客户”",
        "a customer not reached gives no scores, no answer and no words: clear them, or "
        "choose “Reached”"),
    "callback_error.done_already": ("这条回访已记录过（现为“{status}”），未重复记录",
                                    "this callback was recorded already (it is “{status}”): "
                                    "nothing was changed"),
    "callback_error.refused": ("回访结果未能记录，工单未作改动", "the result was not recorded and "
                               "the case was not changed"),
    # After recording
    "callback_done.closed": ("已记录工单 {reference} 的回访：客户满意，工单已办结。",
                             "Callback of case {reference} recorded: the customer is satisfied "
                             "and the case is closed."),
    "callback_done.reopened": (
        "已记录工单 {reference} 的回访：客户不满意或问题未解决，工单已重新处理并升级"
        "（现为“{status}”，升级级别 {level}）。",
        "Callback of case {reference} recorded: the customer is unhappy or the problem is "
        "not solved, so the case is reopened and escalated (now “{status}”, escalation level "
        "{level})."),
    "callback_done.unreachable": ("已记录：工单 {reference} 的客户联系不上，本次回访结束，"
                                  "工单保持“{status}”。",
                                  "Recorded: the customer of case {reference} was not reached; "
                                  "this callback ends and the case stays “{status}”."),
    "callback_done.recorded": ("已记录工单 {reference} 的回访，工单现为“{status}”。",
                               "Callback of case {reference} recorded; the case is now "
                               "“{status}”."),
}
UI.update(CALLBACK_UI)
UI.update(VOC_UI)
UI.update(AUTH_UI)
UI.update(CONFIG_UI)
UI.update(ADMIN_UI)
UI.update(PORTAL_UI)
UI.update(NEW_CASE_UI)
UI.update(BRANCHES_UI)
UI.update(QA_UI)
UI.update(SERVICEDATA_UI)
UI.update(PEOPLE_UI)
UI.update(CONTACT_UI)

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


def has(key: str) -> bool:
    """Whether the UI catalogue has its own string for `key`."""
    return key in UI
