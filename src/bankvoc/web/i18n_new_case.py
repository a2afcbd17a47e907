"""The strings of the new-case page (登记投诉) and its customer look-up, Chinese first (merged
into `ui`)."""

from __future__ import annotations

NEW_CASE_UI: dict[str, tuple[str, str]] = {
    "nav.new_case": ("登记", "New case"),
    "new.title": ("登记投诉", "Register a case"),
    "new.lead": ("先按手机号或身份证号查找客户，再填写投诉内容。提交后系统自动分类、定级并分派。",
                 "Look the customer up by mobile phone or ID number, then describe the case. "
                 "Once registered it is classified, graded and routed automatically."),
    # The look-up
    "new.lookup_title": ("① 查找客户", "1. Find the customer"),
    "new.lookup": ("手机号或身份证号", "Mobile phone or ID number"),
    "new.lookup_hint": ("请输入完整号码（精确匹配）；按身份证号查询会留痕。",
                        "The whole number, matched exactly; a look-up by ID number is "
                        "recorded."),
    "new.lookup_submit": ("查找客户", "Find customer"),
    "new.lookup_error_title": ("无法查找", "Could not look up"),
    "new.lookup_found": ("已找到客户", "Customer found"),
    "new.lookup_found_note": ("该客户的证件和电话已带入下方表单；姓名沿用客户档案，无需重填。",
                              "The number is carried into the form below; the customer's name "
                              "is kept from their record."),
    "new.lookup_missing": ("没有找到该客户：请在下方填写新客户的姓名和联系方式。",
                           "No customer has that number: enter the new customer's name and "
                           "contact details below."),
    "new.recent": ("本机构范围内的近期工单", "Recent cases in your scope"),
    "new.recent_none": ("本机构范围内没有该客户的工单。",
                        "No case of this customer in your scope."),
    "new.recent_scope": ("仅显示您有权查看的机构的工单。",
                         "Only the cases of orgs you may see are shown."),
    "new.by_phone": ("手机号", "Mobile phone"),
    "new.by_id_number": ("身份证号", "ID number"),
    # The form
    "new.form_title": ("② 填写投诉", "2. Describe the case"),
    "new.customer": ("客户信息", "Customer"),
    "new.case": ("投诉信息", "The case"),
    "new.customer_name": ("客户姓名", "Customer's name"),
    "new.customer_phone": ("联系电话", "Phone"),
    "new.customer_id_number": ("身份证号", "ID number"),
    "new.kind": ("类型", "Kind"),
    "new.channel": ("受理渠道", "Channel"),
    "new.org": ("所属机构", "Org"),
    "new.product": ("产品（可不选）", "Product (optional)"),
    "new.category": ("问题类别（可不选）", "Category (optional)"),
    "new.auto": ("由系统自动识别", "Let the system suggest"),
    "new.amount": ("涉及金额（元，可不填）", "Amount involved (CNY, optional)"),
    "new.received_at": ("受理时间", "Received at"),
    "new.title_field": ("标题（可不填）", "Title (optional)"),
    "new.text": ("投诉内容", "What the customer said"),
    "new.text_hint": ("客户原话或诉求要点；证件号、卡号等个人信息会自动脱敏。",
                      "The customer's words or the gist; ID, card and phone numbers in it are "
                      "masked automatically."),
    "new.auto_hint": ("不选时，系统根据投诉内容自动分类；提交后可在工单页更正。",
                      "Left empty, the text decides; it can be corrected on the case page."),
    "new.submit": ("登记", "Register"),
    "new.error_title": ("请修改以下内容后再提交", "Please fix these and send the form again"),
    # What to fix
    "new.error.required": ("必须填写", "is required"),
    "new.error.choose": ("请从列表中选择", "choose one from the list"),
    "new.error.too_long": ("不能超过 {max} 个字", "must be at most {max} characters"),
    "new.error.amount": ("请填写金额，如 1200 或 1200.50（不能为负数）",
                         "enter an amount such as 1200 or 1200.50 (not negative)"),
    "new.error.received_at": ("请按“年-月-日 时:分”填写，如 2026-03-01 09:30",
                              "enter a date and time such as 2026-03-01 09:30"),
    "new.error.future": ("不能晚于当前时间", "cannot be in the future"),
    "new.error.phone": ("不是有效的电话号码：请填 11 位手机号或带区号的座机号",
                        "is not a phone number: enter an 11-digit mobile or a landline with "
                        "its area code"),
    "new.error.id_number": ("不是有效的身份证号：请核对 18 位号码（末位可为 X）",
                            "is not a valid ID number: check the 18 characters (the last may "
                            "be X)"),
    "new.error.lookup": ("请填写完整的 11 位手机号或 18 位身份证号",
                         "enter a whole 11-digit mobile number or an 18-character ID number"),
    "new.error.org": ("您的权限范围内没有该机构，请从列表中选择",
                      "that org is not in your scope: choose one from the list"),
    "new.error.intake": ("无法登记，请核对该项", "could not be registered: check this field"),
}
