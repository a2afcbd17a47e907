"""The customer's mood in one turn of a call, as the emotion rule reads it (-1 angry … 1 pleased).

Built on the project's lexicon scorer (`bankvoc.nlp.sentiment.LexiconSentiment`), which was made
for reviews and complaint texts, with two things a call needs and a review does not:

- Anger as customers voice it on the phone. Much of it holds no sentiment word at all: a
  threat to escalate (我要去银保监投诉, 我要曝光你们, 我要销户), a demand (给我个说法, 叫你们
  领导来), an accusation or a rhetorical question (你们怎么搞的, 凭什么, 你们是不是吞了, 乱扣费,
  莫名其妙, 我明明…), exasperation (气死我了, 算了算了, 说不通, 浪费我时间, 一点用都没有, 效率
  太低, 又要等, 我打了三次电话了, 天天出问题). `ANGER` lists these as patterns, written from
  how complaint calls go, not from any one corpus; each one found counts, an exclamation mark
  makes it stronger, and one negated just before (我不是要投诉, 别生气) does not count.
- A problem told is not a feeling. The reason for a call is usually bad news (扣款失败, 卡被冻结,
  APP 闪退, 钱少了), and the lexicon reads those words as negative, so a customer who calmly
  says what went wrong would already count as upset and could never be seen to worsen. A
  negative reading counts `DESCRIBED` (half) as much when nothing in the turn voices a feeling:
  no anger cue, no exclamation mark, no intensifier (非常, 太, 简直) and not said to the bank
  (你们).

The mood of a turn is the lower of the two readings: the lexicon's polarity (so damped) and the
anger cues' strength, negated; the lower, not the sum, so a word both know (失望, 投诉) is not
counted twice. Texts repeat from call to call (greetings, thanks), so readings are cached per
process.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

from bankvoc.nlp.sentiment import LexiconSentiment

# How much a negative reading counts when nothing in the turn voices a feeling about it.
DESCRIBED = 0.5
# Anger strength = tanh(cues × (1 + 0.15 × exclamation marks, at most 3) / ANGER_SCALE): one cue
# about 0.58, two about 0.87.
ANGER_SCALE = 1.5

_NUM = "[0-9０-９一二两三四五六七八九十几好]"
_CLAUSE = "[^，。？！,.?!\n]"

# Anger, dissatisfaction and exasperation as customers voice them on the phone.
ANGER: tuple[str, ...] = (
    # escalating: complaints, regulators, the press, the courts, leaving the bank
    rf"(?:要|会|就|去|得|必须|一定|准备|马上|立刻|直接|肯定)(?:去)?{_CLAUSE}{{0,8}}?"
    r"(?:投诉|举报|曝光|起诉|告你们|上告)",
    r"投诉(?:你们|你|他|她|这个|到底)",
    r"银保监|银监会|金融监管|监管部门|人民银行|消协|消保委|12378|12363|12315|找媒体|找记者"
    r"|请律师|找律师|上法院|打官司",
    r"销户|销卡|把卡(?:给)?销|换(?:一)?家银行|再也不(?:会|敢|想)?(?:用|来|办|存|买|信|推荐)|不(?:再)?用你们",
    # demanding
    r"给(?:我)?(?:个|一个)?(?:说法|交代|解释)(?!一下)",
    r"(?:叫|找|让)你们(?:的)?(?:领导|经理|主管|负责人|上级|行长)",
    r"赔(?:偿)?(?:我|给我)|(?:你们)?(?:必须|得|要)(?:给我)?负责|要求你们",
    # accusing, indignant questions
    r"怎么搞的|搞什么|凭什么|什么态度|态度(?:太|真|很|也太|这么)?(?:差|恶劣|不好)"
    r"|(?:这|这叫|这算|算)什么(?:服务|银行|态度|事|东西)",
    r"谁(?:来)?(?:负责|赔)|跟你们没完|没完没了|违法|违规|霸占|不专业|不接受",
    # rhetorical questions put to the bank
    rf"(?:有|哪有){_CLAUSE}{{0,8}}这么{_CLAUSE}{{0,8}}的吗|什么意思|结果呢|要你们(?:干|做)什么"
    r"|(?:还得|还要)求你们",
    r"什么(?:破|烂|垃圾|鬼)|(?:破|烂)(?:系统|银行|服务|APP|app|软件)",
    r"到底(?:管不管|怎么回事|怎么|能不能|要|想|还|是不是|有没有|行不行|什么时候)",
    r"管不管|有没有人管|没人管|不管不问",
    r"是不是(?:吞|骗|黑|坑|故意)|骗(?:子|人|钱|我)|坑(?:人|钱|我)|黑心|霸王条款",
    r"乱(?:扣|收|收费|扣费|扣钱|收钱)|莫名其妙|明明",
    r"过分|离谱|不像话|欺负人|欺人太甚|刁难|耍(?:我|人)|糊弄|敷衍|推来推去|推卸|推脱|踢皮球"
    r"|不负责任|没人(?:理|管|接|回|处理|跟进)|不理人"
    r"|(?:没|没有)(?:个|一个)?(?:结果|下文|回音|动静|答复|回复)",
    # exasperated
    r"气死|气疯|气炸|生气|火大|恼火|气人|受不了|受够|忍无可忍|烦死|烦不烦|无语|崩溃|服了你们"
    r"|耐心(?:已经|都)?(?:用完|没了|耗尽|磨没)|行了行了|别说了|(?:再说|说)最后一遍",
    r"算了算了|说不通|讲不通|听不懂人话|(?:你|你们)(?:还是|怎么|到底|根本)?(?:听不懂|听不明白)",
    r"浪费(?:我的?)?时间|白打|白跑",
    rf"(?:一点|根本|完全|啥|什么)(?:都|也)?(?:没|没有)(?:用|解决)|一点用(?:都|也)?没|有什么用"
    rf"|没用的|没有?用{_CLAUSE}{{0,2}}$",
    r"解决不了|办不好|处理不好|办不成",
    r"效率(?:也|真|太|这么|怎么这么|实在)*(?:低|差|慢)",
    r"(?:又|还)(?:要|得)等|等了(?:这么久|半天|好久|很久|" + _NUM
    + r"+(?:个)?(?:分钟|小时|天|周|星期|月))",
    # told, called, come again and again
    rf"(?:说|讲|解释|打|问|跑|来|催|反映)了{_NUM}+(?:次|遍|回|趟|通)|第{_NUM}+(?:次|回|遍)了"
    r"|多少(?:次|遍)了|三番五次|一次又一次",
    r"(?:今天|马上|现在|立刻|立即)(?:就)?(?:必须|一定要|得)",
    r"(?:天天|老是|总是|每次都|又)(?:出问题|这样|坏|断|卡|扣|登不|登录不|收不|错)",
    rf"拖了(?:这么久|好久|很久|半天|{_NUM}+)|拖时间|拖延|耽误|拖拖拉拉|磨磨蹭蹭",
    rf"太难打|打不通|排了(?:这么久|半天|好久|很久|半小时|半个小时|{_NUM}+(?:个)?(?:分钟|小时))",
    # dissatisfied, disappointed
    r"失望|不满|差劲|垃圾|坑|恶心|不靠谱|靠不住"
    r"|(?:太|真|很|好|这么|那么|也太|实在太)(?:差|烂)",
)
# A cue negated just before it does not count (我不是要投诉, 别生气, 没有不满).
_NEGATED = re.compile(r"(?:不|没|没有|别|未|无|并非|不是|不会|不用|不想|不必)"
                      r"(?:是|会|要|想|太|再|去)?$")
# A negative word said with an exclamation mark, an intensifier or to the bank (你们) is a
# feeling voiced, not only a problem told.
_VOICED = re.compile(r"[！!]|你们|非常|特别|十分|太|很|真是|简直|实在|极其")
_ANGER = re.compile("|".join(f"(?:{p})" for p in ANGER))


@lru_cache(maxsize=1)
def _lexicon() -> LexiconSentiment:
    return LexiconSentiment()


def anger_cues(text: str) -> list[str]:
    """The anger cues a turn voices, in order (negated ones left out)."""
    found = []
    for match in _ANGER.finditer(text):
        if _NEGATED.search(text, max(0, match.start() - 3), match.start()) is None:
            found.append(match.group())
    return found


def anger(text: str) -> float:
    """How angry a turn sounds, 0 … 1, from its anger cues."""
    cues = len(anger_cues(text))
    if not cues:
        return 0.0
    boost = 1.0 + 0.15 * min(text.count("！") + text.count("!"), 3)
    return math.tanh(cues * boost / ANGER_SCALE)


@lru_cache(maxsize=200_000)
def customer_mood(text: str) -> float:
    """The mood of one customer turn, -1 … 1: the lower of the lexicon's polarity (a negative
    one halved when nothing in the turn voices a feeling) and the anger cues' strength."""
    polarity = _lexicon().score(text).polarity
    strength = anger(text)
    if strength:
        return round(min(polarity, -strength), 4)
    if polarity < 0 and not _VOICED.search(text):
        return round(polarity * DESCRIBED, 4)
    return polarity
