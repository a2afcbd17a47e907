"""Words the demo generator builds its texts from: scenarios, fragments and slot values.

Pure data. A scenario names its product and category by taxonomy code, and its texts use the
taxonomy's keywords for them, so the keyword classifier finds what the scenario means. The
shared fragments (openers, demands, escalations) carry no taxonomy keyword at all, so they never
pull a text towards another product or category (`tests/demo/test_generator.py` checks this).

Slots in braces are filled by the generator: {I} (我 / 其), {when}, {date}, {place}, {amount},
{loss}, {merchant}, {duration}, {days}, {count}, {tail}, {fund}, {rate}, {staff}, {agent},
{staffname}, {relative}, {currency}, {country}, {phone_model}, {version}, {app_action}, {age};
English texts use {amount_en}, {date_en}, {place_en}, {merchant_en}, {duration_en}, {fund}, {rate}.
"""

from __future__ import annotations

from dataclasses import dataclass

# Amount ranges in yuan.
SMALL = (20, 2_000)
MEDIUM = (500, 30_000)
LARGE = (50_000, 500_000)
HUGE = (80_000, 900_000)


@dataclass(frozen=True)
class Scenario:
    """One kind of story, in a few wordings, about one product and one category.

    A scenario of weight 0 is told only during its event.
    """

    product: str
    category: str
    texts: tuple[str, ...]
    amount: tuple[int, int] | None = None
    weight: float = 1.0
    # Seasonal affinity: "spring" (春节), "double11" (双十一), "618", "outage" (the bad week).
    event: str | None = None


# --- complaints (投诉), in Chinese -------------------------------------------------------------

COMPLAINTS: tuple[Scenario, ...] = (
    # debit card and deposits
    Scenario("debit_card", "process_waiting", (
        "{when}到{place}办理借记卡挂失补卡，排队等了{duration}，只开了两个窗口。",
        "{when}去{place}办理存款销户，需要的材料一次没说清，跑了好几趟还没办完。",
        "在{place}办理定期存单提前支取，前面只有三个人却等了{duration}，效率低。",
        "陪{relative}到{place}开户办一张储蓄卡，办理时间长达{duration}，中途还被要求补材料。",
    ), weight=1.3),
    Scenario("debit_card", "service_attitude", (
        "在{place}咨询大额存单利息怎么算，{staff}态度冷漠，爱答不理。",
        "{when}去{place}补卡，{staff}语气很冲，问两句就不耐烦。",
        "到{place}办理活期转定期，{staff}全程看手机，问什么都敷衍。",
    ), weight=1.2),
    Scenario("debit_card", "business_error", (
        "{date}在{place}存款{amount}，柜员把定期录错成了活期，利息少了一截。",
        "{I}的储蓄卡{tail}去挂失，柜员操作失误挂失了另一张借记卡。",
        "{date}在{place}存了{amount}大额存单，回单上的期限录错了，到期利息对不上。",
    ), amount=MEDIUM),
    Scenario("debit_card", "product_defect", (
        "{I}的借记卡{tail}突然被账户冻结，只说是风控需要，解冻规则不清，很不公平。",
        "储蓄卡非柜面交易限额被调到每天五千，{I}的借记卡日常开销都受影响，很不合理。",
        "大额存单提前支取按活期计息的条款事先没讲清，{I}认为这种条款不公平。",
    ), amount=MEDIUM, weight=0.9),
    Scenario("debit_card", "fee_dispute", (
        "{I}的借记卡{tail}每季度被扣小额账户管理费，开户时没人说过要收费。",
        "一张很久不用的储蓄卡被扣了{amount}管理费，卡里的存款都被扣光了。",
    ), amount=SMALL, weight=0.8),

    # credit card
    Scenario("credit_card", "fee_dispute", (
        "办卡时说信用卡首年免年费，结果{date}的账单上扣了{amount}年费。",
        "信用卡{tail}只晚还了一天就收了滞纳金，还按全额计了罚息。",
        "信用卡账单分期的手续费折算下来远高于宣传的费率，扣费不透明。",
        "信用卡取现被收了{amount}手续费，之前没人告知取现要收费。",
    ), amount=SMALL, weight=1.6, event="double11"),
    Scenario("credit_card", "mis_selling", (
        "客户经理推销信用卡账单分期，说是零利息，实际每期都有手续费，明显误导。",
        "在{place}办信用卡时被捆绑搭售了一份意外险，说不买就不批额度。",
        "电话营销诱导{I}把信用卡额度转成分期，没讲清总费用。",
    ), amount=MEDIUM, weight=1.0),
    Scenario("credit_card", "privacy", (
        "{I}的信用卡{tail}{date}夜里被盗刷{amount}，卡一直在身上，交易地点根本没去过。",
        "收到信用卡消费提醒，在{merchant}被盗刷了{count}，合计{amount}。",
        "信用卡{tail}被人冒用办了分期，{I}从没申请过，怀疑个人信息被泄露。",
    ), amount=MEDIUM, weight=1.1, event="double11"),
    Scenario("credit_card", "debt_collection", (
        "信用卡欠款晚还了两个月，催收人员每天打十几个电话，还骚扰家人。",
        "信用卡催收员打电话威胁要爆通讯录，还说要上门催，{I}的家人都被吓坏了。",
        "信用卡账单有争议还在协商，催收公司就开始暴力催收，言语侮辱。",
    ), amount=MEDIUM, weight=0.9),
    Scenario("credit_card", "business_error", (
        "{date}已按账单全额还款{amount}，却被重复扣款，多扣的部分至今没退回。",
        "信用卡还款{amount}后额度没有恢复，账单上的还款金额还录错了。",
        "信用卡积分兑换的礼品发错了，客服说是操作失误，但一直没有补发。",
    ), amount=MEDIUM, weight=1.0),
    Scenario("credit_card", "product_defect", (
        "信用卡额度被无故降低，积分规则不清，兑换条款不公平。",
        "信用卡最低还款的计息规则不合理，只差一点没还也按全额计息。",
    ), weight=0.7),
    Scenario("credit_card", "service_attitude", (
        "打客服电话问信用卡账单，{agent}态度差，说了三遍还是敷衍了事。",
        "在{place}激活信用卡，{staff}态度恶劣，还说{I}不懂就别办卡。",
    ), weight=0.8),

    # personal loans
    Scenario("personal_loan", "privacy", (
        "征信报告上多了一笔{amount}的贷款，{I}从未申请，怀疑身份被冒用。",
        "刚申请完消费贷就接到各种贷款骚扰电话，个人信息肯定被泄露了。",
    ), amount=LARGE, weight=0.8),
    Scenario("personal_loan", "fee_dispute", (
        "办理消费贷提前还款被收了{amount}违约金，合同里根本没写清楚。",
        "经营贷按时还本付息，却多收了一笔{amount}服务费。",
    ), amount=MEDIUM, weight=0.9),
    Scenario("personal_loan", "process_waiting", (
        "经营贷审批通过一个多月了迟迟不放款，催了{count}都说在走流程。",
        "申请消费贷让交了{count}材料，每次都说还差一份，拖延了{days}。",
    ), amount=LARGE, weight=0.8),
    Scenario("personal_loan", "mis_selling", (
        "客户经理说闪电贷利率只有{rate}，实际算下来远高于承诺，属于诱导借款。",
        "办贷款时被要求必须购买一份保险才能放款，这是强制购买。",
    ), amount=MEDIUM, weight=0.8),
    Scenario("personal_loan", "debt_collection", (
        "消费贷逾期三天，催收电话就打到单位和家人那里，骚扰家人。",
        "网贷合作方催收员威胁{I}说要爆通讯录，{I}的贷款其实只逾期了几天。",
    ), amount=MEDIUM, weight=0.8),
    Scenario("personal_loan", "business_error", (
        "按时还了贷款，却被上报逾期，征信出现不良记录，明显是操作失误。",
        "提前还款{amount}后贷款仍显示未结清，借款合同的金额也录错了。",
    ), amount=MEDIUM, weight=0.8),

    # mortgage
    Scenario("mortgage", "product_defect", (
        "房贷利率一直没跟着LPR下调，存量房贷调整的规则不清，很不公平。",
        "按揭合同里的加点条款不合理，LPR降了房贷月供却没变。",
    ), weight=1.0),
    Scenario("mortgage", "process_waiting", (
        "申请提前还贷要先预约排队两个月，住房贷款的办理时间长得离谱。",
        "公积金组合贷的材料交了{count}，按揭迟迟批不下来，首付都交了。",
        "房贷结清后解除抵押的手续繁琐，跑了好几趟还没办下来。",
    ), amount=LARGE, weight=1.0),
    Scenario("mortgage", "fee_dispute", (
        "提前还贷被收取{amount}违约金，签按揭合同时没人提醒。",
        "办理房贷抵押登记被收了{amount}服务费，没有任何收费依据。",
    ), amount=MEDIUM, weight=0.7),
    Scenario("mortgage", "business_error", (
        "房贷月供多扣了一期，{amount}至今未退回，按揭账户也对不上。",
        "住房贷款的LPR重定价日录错了，{I}多还了利息。",
    ), amount=MEDIUM, weight=0.6),
    Scenario("mortgage", "service_attitude", (
        "打电话问房贷提前还贷的事，{agent}和客户经理互相推诿，让{I}自己去找开发商。",
    ), weight=0.5),

    # wealth management and agency sales
    Scenario("wealth", "mis_selling", (
        "{date}在{place}购买{fund}理财产品{amount}，理财经理承诺收益{rate}还说保本，"
        "现在亏损{loss}，购买时未告知风险。",
        "{staff}推销一款代销基金，夸大收益，说和存款一样安全，结果净值跌了不少。",
        "去存款被理财经理诱导买了{fund}，风险评估是工作人员代填的，风险等级根本不匹配。",
        "{I}本来想存一笔钱，被推销成了一份分红保险，{amount}五年内取不出来，这是误导销售。",
    ), amount=HUGE, weight=1.6),
    Scenario("wealth", "process_waiting", (
        "基金赎回申请提交{days}了钱还没到，一直说在处理，拖延太久。",
        "理财产品到期{days}了本金和收益迟迟不到账。",
    ), amount=LARGE, weight=0.8),
    Scenario("wealth", "product_defect", (
        "结构性存款到期收益只有最低档，产品设计的条款对客户不公平。",
        "理财产品的净值计算规则不清，赎回时的收益和页面上展示的不一样。",
    ), amount=LARGE, weight=0.7),
    Scenario("wealth", "fee_dispute", (
        "理财产品赎回时扣了{amount}管理费，购买时没说明收费标准。",
        "代销基金申购和赎回都收费，还有一笔服务费，加起来把收益都吃掉了。",
    ), amount=MEDIUM, weight=0.7),
    Scenario("wealth", "business_error", (
        "{I}赎回的是{fund}，柜员操作失误赎回了另一只基金，造成亏损{loss}。",
    ), amount=LARGE, weight=0.5),

    # payments and transfers
    Scenario("payments", "business_error", (
        "{date}跨行转账{amount}给{relative}，对方一直未到账，钱已经从账户扣掉了。",
        "在{merchant}消费被重复扣款{amount}，商户说钱已退回但一直没收到退款。",
        "代扣的水电燃气费重复扣款，{amount}到现在还没退回来。",
        "{date}给{relative}汇款{amount}，汇款附言录错了，对方收不到。",
    ), amount=MEDIUM, weight=1.7, event="spring"),
    Scenario("payments", "fee_dispute", (
        "跨行汇款被收了{amount}手续费，之前说手机转账免费。",
        "商户收款码突然开始收取手续费，费率也没有提前通知。",
    ), amount=SMALL, weight=0.9),
    Scenario("payments", "privacy", (
        "收到短信提醒在{merchant}快捷支付了{amount}，{I}根本没有操作，卡被盗刷。",
        "接到冒充客服的电话被诈骗，转账{amount}，要求帮助冻结对方账户。",
        "{I}的卡在{merchant}被人绑定了快捷支付，{count}盗刷合计{amount}。",
    ), amount=MEDIUM, weight=1.3, event="double11"),
    Scenario("payments", "business_error", (
        "双十一在{merchant}购物付款时被重复扣款{amount}，退款迟迟没到。",
        "双十一期间云闪付支付一笔{amount}，显示失败但钱被多扣了，商户说没收到。",
    ), amount=MEDIUM, weight=0.0, event="double11"),
    Scenario("payments", "process_waiting", (
        "春节前给家里转账{amount}，跨行汇款两天了都没到账，等了太久。",
        "年底给工人转账发工资，转账排队处理，拖延了{days}。",
    ), amount=MEDIUM, weight=0.0, event="spring"),
    Scenario("payments", "product_defect", (
        "快捷支付单笔限额太低，在{merchant}付款老是被拦，规则不清。",
        "转账到账时间的规则不合理，说好实时到账却要等第二天。",
    ), weight=0.7),

    # mobile and online banking
    Scenario("digital_banking", "system_failure", (
        "手机银行APP{when}升级后一打开就闪退，{app_action}都做不了。",
        "用网上银行{app_action}时页面报错，重试了{count}还是打不开。",
        "手机银行登录总是提示网络异常，换了WiFi和流量都无法登录。",
        "在{phone_model}上用手机银行，新版本{version}一点开就崩溃。",
    ), weight=1.6),
    Scenario("digital_banking", "system_failure", (
        "手机银行从{date}开始一直闪退，{app_action}做不了，急着用钱却无法登录。",
        "手机银行APP崩溃了一整天，登录就闪退，客服电话也打不进去。",
        "升级到{version}以后手机银行闪退，{phone_model}重装了好几次还是打不开。",
        "手机银行转账时突然闪退，钱扣了{amount}，转账状态一直显示处理中，系统故障谁负责？",
        "这几天手机银行和网银都登录不了，页面一直报错，是不是系统宕机了？",
    ), amount=MEDIUM, weight=0.0, event="outage"),
    Scenario("digital_banking", "product_defect", (
        "手机银行的人脸识别老是不通过，年纪大的人根本用不了，产品设计不合理。",
        "手机银行每次登录都要短信验证码加密码，还限制了转账限额，规则不清。",
    ), weight=0.9),
    Scenario("digital_banking", "process_waiting", (
        "手机银行迟迟收不到验证码，等了{duration}也没收到，耽误了{app_action}。",
        "网银重置密码要到网点排队，办理时间长，流程繁琐。",
    ), weight=0.9),
    Scenario("digital_banking", "privacy", (
        "手机银行登录后页面上显示的是别人的账户信息，这是严重的隐私泄露。",
        "小程序里能看到{I}的个人信息被别人查询过，怀疑信息泄露。",
    ), weight=0.5),
    Scenario("digital_banking", "service_attitude", (
        "手机银行登录不上打客服，{agent}态度敷衍，只会让{I}卸载重装APP。",
    ), weight=0.6),

    # foreign exchange
    Scenario("foreign_exchange", "process_waiting", (
        "{date}给在{country}读书的{relative}境外汇款{amount}，{days}了还没到，一直拖延。",
        "去{place}办理购汇，排队加填表用了{duration}，流程繁琐。",
    ), amount=LARGE, weight=0.8),
    Scenario("foreign_exchange", "fee_dispute", (
        "外币兑换的汇率差太大，还另收了一笔手续费，收费没有公示。",
        "境外汇款被收了{amount}电报费和手续费，事前没说明收费标准。",
    ), amount=SMALL, weight=0.7),
    Scenario("foreign_exchange", "product_defect", (
        "购汇时要求填写的用途规则不清，{currency}结汇的条款也不合理。",
    ), weight=0.5),
    Scenario("foreign_exchange", "service_attitude", (
        "去{place}办{currency}外币兑换，{staff}不专业，不会操作还态度不耐烦。",
    ), weight=0.5),

    # corporate banking
    Scenario("corporate", "process_waiting", (
        "公司对公开户的材料要求繁琐，前后跑了好几趟，拖延了{days}。",
        "企业账户变更法人要求的材料太多，办理时间长，耽误公司经营。",
    ), weight=0.7),
    Scenario("corporate", "system_failure", (
        "企业网银登录报错，回单打不开，单位结算全部受影响。",
        "企业网银{date}出现故障，一笔{amount}的对公付款状态不明。",
    ), amount=LARGE, weight=0.6),
    Scenario("corporate", "fee_dispute", (
        "企业账户每月被收取{amount}账户管理费和回单服务费，没有提前告知。",
    ), amount=SMALL, weight=0.5),
    Scenario("corporate", "business_error", (
        "公司账户的一笔{amount}货款被柜员操作失误转错了单位结算账户。",
    ), amount=LARGE, weight=0.4),

    # cash
    Scenario("cash", "system_failure", (
        "{place}的ATM吞卡了，打电话过去说要等{days}才能取卡。",
        "在{place}的ATM存现，机器故障钱没入账，{amount}不见了。",
    ), amount=SMALL, weight=0.9),
    Scenario("cash", "service_attitude", (
        "到{place}兑换零钱和硬币，{staff}不耐烦地说不办，态度很凶。",
        "去{place}取款{amount}，{staff}冷漠地让去ATM取，根本不理睬。",
    ), amount=MEDIUM, weight=0.8, event="spring"),
    Scenario("cash", "business_error", (
        "在{place}的ATM取款{amount}，机器出钞少给了几张，核查后银行却说账务没有差错。",
        "在柜台取款{amount}，回家点数发现现金少给了两张。",
    ), amount=(300, 5_000), weight=0.7),
    Scenario("cash", "process_waiting", (
        "春节前到{place}兑换新钞，排队等了{duration}，最后说现金不够了。",
        "拿残损币到{place}兑换，被要求跑好几个网点，太麻烦。",
    ), weight=0.0, event="spring"),
    Scenario("cash", "other", (
        "在{place}存现时被柜员认定一张假币并没收，{I}对鉴定结果有异议。",
    ), weight=0.3),

    # other
    Scenario("other", "other", (
        "{place}门口的停车位被占满了，来办业务根本没地方停车。",
        "{place}的营业时间和官网公布的不一样，白跑了一趟。",
        "{place}的饮水机和座椅长期损坏，没人管。",
    ), weight=0.6),
    Scenario("other", "service_attitude", (
        "{place}的保安态度很凶，不让{I}进门取号。",
        "{place}的{staff}当着其他客户的面大声辱骂{I}。",
    ), weight=0.5),
    Scenario("other", "privacy", (
        "最近频繁接到贵行的营销电话和骚扰电话，要求立即停止。",
        "{I}已经多次要求不要再打营销电话，每周还是有好几个骚扰电话。",
    ), weight=0.8),
)


# --- complaint details: one more sentence of the same category, no product words -------------

CATEGORY_DETAILS: dict[str, tuple[str, ...]] = {
    "service_attitude": (
        "工作人员语气很冲，还说“自己看不懂怪谁”。",
        "前后问了三个人，互相推诿，没人愿意管。",
        "全程爱答不理，还当着其他客户的面翻白眼。",
        "{staffname}说话很不专业，解释不清楚就不耐烦。",
    ),
    "business_error": (
        "后来核对凭条才发现是柜员搞错了。",
        "对账后确认是操作失误，可到现在还没有更正。",
        "银行承认有差错，却说要走流程。",
    ),
    "product_defect": (
        "这样的规则不清，普通客户根本看不懂。",
        "这明显是霸王条款，对客户很不公平。",
        "这种产品设计根本没考虑客户的实际情况。",
    ),
    "fee_dispute": (
        "从来没有签过同意收费的文件。",
        "所有的扣费都没有提前短信通知。",
        "同样的业务别的银行都不收费，这是乱收费。",
    ),
    "privacy": (
        "{I}怀疑个人信息在办理业务时被泄露了。",
        "对方连{I}的身份证号和住址都说得出来，信息安全毫无保障。",
        "卡被盗刷后已经到派出所报了案。",
    ),
    "process_waiting": (
        "前后跑了好几趟，每次都说材料不全。",
        "打了{count}电话催，每次都说再等等，一直拖延。",
        "办理时间长，中午还要等工作人员吃完饭。",
    ),
    "system_failure": (
        "打客服电话说是系统维护，让{I}晚点再试。",
        "前一天也出现同样的故障，一直没修好。",
        "换了几部手机也一样报错。",
    ),
    "mis_selling": (
        "当时只讲好处，未告知风险。",
        "工作人员说这是内部特供，错过就没有了，明显是诱导。",
        "签字的时候让{I}只签名，别的都是工作人员帮忙填的，这就是诱导。",
    ),
    "debt_collection": (
        "催收电话一天打了二十多个，连晚上十点以后都在打。",
        "催收员威胁说要去单位找领导。",
        "催收员还骚扰家人，连孩子的学校都接到了电话。",
    ),
    "other": (
        "希望能改进一下。",
        "已经跟大堂反映过，没有任何改变。",
    ),
}


# --- shared fragments: no taxonomy keyword in any of them --------------------------------------

OPENERS_FIRST = ("", "", "", "您好，", "你好，", "本人", "我想反映一个问题：", "我要投诉！")
OPENERS_PHONE = ("客户来电反映：", "客户反映，", "客户称", "客户{surname}{title}来电表示，",
                 "来电人反映，")
OPENERS_COUNTER = ("客户到{place}现场反映：", "客户在柜面反映，", "客户称",
                   "客户{surname}{title}反映，")
OPENERS_REGULATOR = ("监管转办（12378）：客户反映，", "人民银行转办：客户反映，",
                     "金融监管局转送：客户反映，", "12378热线转来：客户称")
OPENERS_LETTER = ("尊敬的行领导：您好！", "致贵行负责人：", "行长您好：")

DEMANDS = (
    "要求银行给个说法。", "希望尽快核实处理。", "要求全额退还并赔偿损失。", "请尽快回电。",
    "要求相关人员道歉。", "希望贵行重视。", "要求三个工作日内给出答复。",
    "请给一个明确的处理时限。", "要求查清原因并书面答复。", "希望以后不要再出现这种情况。",
    "", "",
)
EMOTIONS = ("非常气愤！", "太过分了！", "简直忍无可忍。", "{I}对此非常不满。",
            "这种做法就是欺骗。")
ESCALATIONS = (
    "如果三天内不给答复，将向12378反映。", "再不解决就找媒体曝光。",
    "已经咨询了律师，准备向法院起诉。", "准备向人民银行和金融监管局反映。",
    "如果处理不好就发微博曝光。", "打算联系电视台记者。",
)
# An old customer speaking of themselves ({age} is their own age) ...
VULNERABLE_SELF = ("{I}今年{age}岁了，是个老人，", "{I}是老年人，不会用智能手机，",
                   "{I}已经{age}岁，耳朵不好，")
# ... and anyone else who is vulnerable or cares for someone who is.
VULNERABLE_OTHER = ("{I}家老人今年{age}岁，腿脚不便，", "{I}是残疾人，行动不便，",
                    "{I}父亲{age}岁，最近还在住院，", "{I}是孕妇，不方便久站，")
PII_PHONE = ("联系电话{phone}。", "回电请打{phone}。", "{I}的手机号{phone}。")
PII_CARD = ("卡号{card}。", "涉及的卡号是{card}。")
PII_ID = ("身份证号{id_number}。",)
INTENT_WRAP = (
    ("客户表达投诉意向：", "客户表示如处理不满意将正式投诉。"),
    ("客户对以下情况表示不满：", "暂未正式投诉，要求回电说明。"),
    ("投诉意向：", "客户称先听听解释再决定是否投诉。"),
)


# --- suggestions (建议), hard questions (疑难) and praise (表扬) ---------------------------------

SUGGESTIONS: tuple[Scenario, ...] = (
    Scenario("digital_banking", "product_defect", (
        "建议手机银行增加长辈版大字页面，现在的产品设计对年纪大的客户不友好。",
        "建议手机银行的转账页面增加常用收款人排序功能，现在的设计不合理。",
        "建议网上银行支持更多浏览器，现在的页面限制不合理。",
    ), weight=1.5),
    Scenario("other", "process_waiting", (
        "建议{place}增加周末营业窗口，减少客户排队等待时间。",
        "建议网点增加预约取号功能，不用在现场排队等待。",
    )),
    Scenario("credit_card", "fee_dispute", (
        "建议信用卡账单上明确展示分期手续费的年化费率。",
        "建议信用卡年费减免规则写得更清楚一些。",
    )),
    Scenario("payments", "fee_dispute", (
        "建议跨行转账的手续费全部免除。",
        "建议商户收款码的手续费标准提前一个月通知。",
    ), weight=0.8),
    Scenario("wealth", "mis_selling", (
        "建议理财产品页面把风险等级标注得更醒目，避免误导。",
        "建议基金代销时对老年客户多做一次风险评估提醒，避免误导。",
    )),
    Scenario("cash", "other", (
        "建议ATM增加存取硬币和零钱的功能。",
        "建议春节前多备一些新钞现金，方便客户兑换。",
    ), weight=0.6),
    Scenario("foreign_exchange", "process_waiting", (
        "建议外币兑换可以在手机上预约，减少排队。",
    ), weight=0.5),
    Scenario("corporate", "system_failure", (
        "建议企业网银回单支持批量下载，现在下载经常报错。",
    ), weight=0.5),
    Scenario("mortgage", "process_waiting", (
        "建议房贷提前还贷能直接在手机银行上申请，不用预约排队。",
    ), weight=0.7),
    Scenario("personal_loan", "process_waiting", (
        "建议贷款审批进度可以实时查询，不用反复打电话等待。",
    ), weight=0.7),
    Scenario("other", "service_attitude", (
        "建议加强对新员工的服务态度培训。",
        "建议对爱答不理的员工加强管理。",
    ), weight=0.5),
    Scenario("other", "process_waiting", (
        "建议客服热线缩短人工接听的等待时间。",
    ), weight=0.5),
)
SUGGESTION_OPENERS = ("", "", "", "客户来电提出：", "意见建议：", "我有个想法：")

HARD_QUESTIONS: tuple[Scenario, ...] = (
    Scenario("debit_card", "product_defect", (
        "{I}的借记卡为什么突然被账户冻结？解冻规则不清，到底要怎么办？",
    )),
    Scenario("debit_card", "process_waiting", (
        "老人去世后，存款如何办理继承支取？需要哪些材料？",
    ), weight=0.6),
    Scenario("credit_card", "fee_dispute", (
        "信用卡只还了最低还款后，利息和滞纳金具体怎么计算？",
        "信用卡溢缴款取出来为什么要收手续费？",
    )),
    Scenario("personal_loan", "other", (
        "征信报告上的逾期记录什么时候能消除？能否申请异议？",
    )),
    Scenario("mortgage", "product_defect", (
        "房贷转换LPR后每月月供怎么算？重定价的规则不清。",
    )),
    Scenario("wealth", "other", (
        "理财产品到期后收益什么时候到账？净值为什么会低于购买时？",
    )),
    Scenario("foreign_exchange", "other", (
        "境外汇款需要提供哪些信息？给{country}汇{currency}几天能到？",
    )),
    Scenario("corporate", "process_waiting", (
        "对公开户需要准备哪些材料？为什么要实地核查？",
    )),
    Scenario("cash", "other", (
        "残损币兑换的标准是什么？烧坏一半的纸币能换多少？",
    )),
    Scenario("digital_banking", "system_failure", (
        "手机银行换手机后人脸识别一直失败报错，怎么解决？",
    )),
    Scenario("payments", "business_error", (
        "一笔跨行转账显示成功但对方未到账，退回要多久？",
    )),
)
HARD_QUESTION_OPENERS = ("客户咨询：", "疑难问题：", "客户多次来电询问，一线无法解答：",
                         "客户问：")

PRAISE: tuple[Scenario, ...] = (
    Scenario("debit_card", "service_attitude", (
        "表扬{place}的{staffname}，耐心帮{relative}办理了存款业务，服务态度非常好。",
    )),
    Scenario("credit_card", "privacy", (
        "感谢客服{staffname}，帮{I}及时冻结了被盗刷的信用卡。",
    )),
    Scenario("other", "service_attitude", (
        "{place}的大堂经理主动帮行动不便的客户取号，服务态度热情周到，点赞。",
    )),
    Scenario("other", "other", (
        "表扬{place}全体员工，中午加班为客户办完业务。",
    ), weight=0.5),
    Scenario("digital_banking", "other", (
        "手机银行新版本很好用，转账很快，页面也清楚，点赞。",
    )),
    Scenario("wealth", "other", (
        "理财经理{staffname}专业细致，把基金的风险等级讲得很清楚。",
    )),
)


# --- English texts (about one in twenty) -------------------------------------------------------

ENGLISH: tuple[Scenario, ...] = (
    Scenario("credit_card", "fee_dispute", (
        "I was charged an annual fee of {amount_en} on my credit card although the staff said "
        "it was waived for the first year. Please remove the fee.",
        "My credit card statement shows a late fee and a penalty even though I paid on "
        "{date_en}.",
    ), amount=SMALL),
    Scenario("digital_banking", "system_failure", (
        "The mobile banking app keeps crashing since the last update and I cannot log in.",
        "Online banking shows a system error every time I try to login. Is it down?",
    ), weight=1.2),
    Scenario("payments", "business_error", (
        "I made a transfer of {amount_en} on {date_en} and it has not arrived. The money left my "
        "account. This must be an error.",
        "I was double charged {amount_en} at {merchant_en} and the payment refund never came.",
    ), amount=MEDIUM),
    Scenario("payments", "privacy", (
        "Someone made an unauthorised payment of {amount_en} at {merchant_en} with my card. "
        "This is fraud.",
    ), amount=MEDIUM),
    Scenario("debit_card", "service_attitude", (
        "The staff at the {place_en} branch were rude and unprofessional when I asked about my "
        "deposit.",
    )),
    Scenario("debit_card", "process_waiting", (
        "I waited in the queue for {duration_en} at {place_en} to open a savings account. "
        "Far too long.",
    )),
    Scenario("wealth", "mis_selling", (
        "The adviser promised a guaranteed return of {rate} on the wealth management product "
        "{fund}, but the fund lost money. I was mis-sold.",
    ), amount=LARGE),
    Scenario("foreign_exchange", "fee_dispute", (
        "The exchange rate for my foreign exchange was far worse than advertised and there was "
        "a hidden fee.",
    )),
    Scenario("personal_loan", "privacy", (
        "My credit report shows an overdue loan that I never took out. Someone used my identity, "
        "this is fraud.",
    ), amount=MEDIUM),
    Scenario("mortgage", "product_defect", (
        "My mortgage rate was not lowered with the market. The housing loan has unfair terms.",
    )),
    Scenario("cash", "system_failure", (
        "The ATM at {place_en} kept my card and showed a system error during a cash withdrawal.",
    )),
    Scenario("corporate", "process_waiting", (
        "Opening a corporate account took three visits and far too much paperwork.",
    )),
)
ENGLISH_SUGGESTIONS: tuple[Scenario, ...] = (
    Scenario("digital_banking", "other", (
        "Suggestion: please add an English version of the mobile banking login page.",)),
    Scenario("cash", "other", (
        "It would help if the ATM screens offered an English menu for cash withdrawal.",)),
)
ENGLISH_QUESTIONS: tuple[Scenario, ...] = (
    Scenario("credit_card", "fee_dispute", (
        "Could you explain why a fee was charged on my credit card statement?",)),
    Scenario("foreign_exchange", "other", (
        "How long does money sent abroad in a foreign currency take to arrive, and which "
        "exchange rate applies?",)),
)
ENGLISH_PRAISE: tuple[Scenario, ...] = (
    Scenario("foreign_exchange", "other", (
        "I want to thank the staff at {place_en} for their patient help with my foreign "
        "exchange.",)),
)
ENGLISH_DEMANDS = ("Please look into this.", "I expect a reply within three days.",
                   "Please call me back.", "")
ENGLISH_ESCALATIONS = ("Otherwise I will take this to the regulator.",
                       "I have spoken to a lawyer.")
ENGLISH_NAMES = ("John Smith", "Maria Garcia", "David Lee", "Anna Müller", "Tom Brown",
                 "Sarah Johnson", "Kenji Sato", "Olga Petrova", "James Wilson", "Emma Martin")


# --- slot values --------------------------------------------------------------------------------

MERCHANTS = ("京东", "天猫", "拼多多", "美团", "携程", "某电商平台", "某直播间", "一家加油站",
             "某健身房", "某培训机构", "某游戏平台", "某超市", "某外卖平台", "某航空公司官网")
MERCHANTS_EN = ("an online shop", "a petrol station", "a gym", "a travel website",
                "a supermarket", "a game platform")
RELATIVES = ("父亲", "母亲", "孩子", "老伴", "女儿", "儿子", "朋友", "家里")
STAFF = ("柜员", "大堂经理", "客户经理", "客服人员", "理财经理", "工作人员", "网点主任")
STAFF_TITLES = ("经理", "柜员", "主管")
AGENTS = ("客服人员", "客服专员", "人工客服", "坐席")
DURATIONS = ("两个多小时", "四十分钟", "一个半小时", "整整三个小时", "一个多小时", "五十分钟")
DURATIONS_EN = ("two hours", "ninety minutes", "over an hour", "three hours")
DAYS = ("三天", "一周", "半个月", "十多天", "五个工作日", "二十多天")
COUNTS = ("三次", "四五次", "好几次", "两次", "七八次")
CURRENCIES = ("美元", "欧元", "日元", "港币", "英镑", "澳元")
COUNTRIES = ("美国", "英国", "澳大利亚", "加拿大", "日本", "德国", "新加坡")
PHONE_MODELS = ("华为Mate60", "iPhone 15", "小米14", "OPPO Reno11", "vivo X100", "荣耀90")
APP_ACTIONS = ("转账", "查余额", "缴费", "买理财", "还信用卡", "查明细")
FUND_PREFIX = ("稳健", "鑫享", "安盈", "聚利", "天天", "睿远", "恒信", "卓越", "金穗", "福临")
FUND_MIDDLE = ("增利", "优选", "成长", "添利", "季季盈", "半年享", "180天", "养老")
FUND_SUFFIX = ("3号", "A", "B", "C", "一期", "二期", "混合")
RATES = ("3.8%", "4.2%", "4.5%", "5%", "6%", "3.6%", "年化7%")

SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱",
            "胡", "郭", "何", "林", "高", "罗", "郑", "梁", "谢", "宋", "唐", "韩", "冯", "邓",
            "曹", "彭", "曾", "肖", "田", "董", "潘", "袁", "蔡", "蒋", "余", "于", "杜", "叶",
            "程", "魏", "苏", "吕", "丁", "任", "卢", "姚", "沈", "钟", "姜", "崔", "谭", "陆",
            "范", "汪", "廖", "石", "金", "贾", "夏", "付", "方", "邹", "熊", "白", "孟", "秦",
            "欧阳", "司马", "诸葛")
# The most common surnames come first; the generator favours the front of the list.
GIVEN_MALE = ("伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平", "辉", "鹏",
              "华", "飞", "鑫", "波", "宁", "浩", "宇", "建国", "志强", "国华", "文斌", "海涛",
              "俊杰", "晓东", "子轩", "浩然", "宇航", "德明", "永福")
GIVEN_FEMALE = ("芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "燕", "玲", "婷", "雪", "慧",
                "颖", "琳", "晶", "秀英", "桂英", "玉兰", "丽华", "淑珍", "美玲", "欣怡", "梓涵",
                "雨桐", "思琪", "佳怡", "晓红", "春梅")

# Mobile prefixes of the three carriers (and virtual operators).
MOBILE_PREFIXES = ("130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150",
                   "151", "152", "153", "155", "156", "157", "158", "159", "166", "170", "173",
                   "175", "176", "177", "178", "180", "181", "182", "183", "184", "185", "186",
                   "187", "188", "189", "191", "198", "199")
# Bank card number prefixes (debit and credit BINs of domestic banks).
CARD_BINS = ("622202", "622848", "621700", "622588", "622700", "621483", "625965", "622609",
             "628288", "621226")
