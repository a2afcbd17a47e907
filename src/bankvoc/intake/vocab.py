"""Words bank files use for kinds, channels and severities, mapped to our codes."""

from __future__ import annotations

from bankvoc.cases.enums import CaseKind, Channel, Severity
from bankvoc.sla.enums import Origin

KIND_WORDS: dict[str, CaseKind] = {
    "投诉": CaseKind.complaint, "客户投诉": CaseKind.complaint, "complaint": CaseKind.complaint,
    "投诉意向": CaseKind.complaint_intent, "意向投诉": CaseKind.complaint_intent,
    "complaint intent": CaseKind.complaint_intent,
    "建议": CaseKind.suggestion, "意见建议": CaseKind.suggestion,
    "suggestion": CaseKind.suggestion,
    "疑难": CaseKind.hard_question, "疑难问题": CaseKind.hard_question,
    "咨询": CaseKind.hard_question,
    "hard question": CaseKind.hard_question, "question": CaseKind.hard_question,
    "表扬": CaseKind.praise, "praise": CaseKind.praise, "compliment": CaseKind.praise,
}

CHANNEL_WORDS: dict[str, Channel] = {
    "热线": Channel.hotline, "客服热线": Channel.hotline, "电话": Channel.hotline,
    "电话银行": Channel.hotline, "95热线": Channel.hotline, "phone": Channel.hotline,
    "telephone": Channel.hotline,
    "网点": Channel.branch, "柜面": Channel.branch, "营业网点": Channel.branch,
    "营业场所": Channel.branch, "现场": Channel.branch,
    "手机银行": Channel.mobile_app, "app": Channel.mobile_app, "手机app": Channel.mobile_app,
    "网上银行": Channel.online_banking, "网银": Channel.online_banking,
    "微信": Channel.wechat, "微信银行": Channel.wechat, "公众号": Channel.wechat,
    "邮件": Channel.email, "电子邮件": Channel.email, "e-mail": Channel.email,
    "信函": Channel.letter, "来信": Channel.letter, "短信": Channel.sms,
    "自助机具": Channel.self_service, "atm": Channel.self_service, "自助设备": Channel.self_service,
    "第三方": Channel.third_party, "第三方渠道": Channel.third_party,
    "监管转办": Channel.regulator, "监管转送": Channel.regulator, "12378": Channel.regulator,
    "人民银行转办": Channel.regulator, "12345": Channel.regulator,
    "官网": Channel.web, "网站": Channel.web, "其他": Channel.other, "其它": Channel.other,
    "postal mail": Channel.letter, "fax": Channel.other, "referral": Channel.third_party,
}

SEVERITY_WORDS: dict[str, Severity] = {
    "一般": Severity.general, "重要": Severity.important, "紧急": Severity.urgent,
    "重大": Severity.major,
}


ORIGIN_WORDS: dict[str, Origin] = {
    "直接投诉": Origin.direct, "客户直接投诉": Origin.direct, "本行受理": Origin.direct,
    "金融监管总局": Origin.nfra, "国家金融监督管理总局": Origin.nfra, "监管局": Origin.nfra,
    "金融监管局": Origin.nfra, "银保监": Origin.nfra, "银保监会": Origin.nfra,
    "银保监局": Origin.nfra, "监管转办": Origin.nfra,
    "人民银行": Origin.pboc, "人行": Origin.pboc, "人民银行转办": Origin.pboc,
    "中国人民银行": Origin.pboc, "12363": Origin.pboc,
    "12378热线": Origin.hotline_12378, "12345热线": Origin.hotline_12345,
    "市民热线": Origin.hotline_12345, "政务热线": Origin.hotline_12345,
}
