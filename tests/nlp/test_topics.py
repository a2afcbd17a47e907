from __future__ import annotations

import pytest

from bankvoc.nlp.topics import Topic, cluster_topics

FRAUD = [
    "信用卡被盗刷了五千元", "我的信用卡昨晚被盗刷", "信用卡盗刷没人处理", "信用卡境外被盗刷两笔",
    "发现信用卡被盗刷要求赔偿", "信用卡莫名被盗刷",
]
ATM = [
    "取款机吞卡了怎么办", "ATM吞卡后一直没人来", "网点取款机吞卡", "取款机吞卡还扣了钱",
    "吞卡以后取款机黑屏",
]
QUEUE = [
    "网点排队等了两个小时", "排队太久窗口只开一个", "周末网点排队人太多", "排队叫号系统坏了",
    "排队一个多小时没办成",
]
ONE_OFFS = ["理财经理推销保险", "手机银行无法登录", "贷款利率太高"]
TEXTS = FRAUD + ATM + QUEUE + ONE_OFFS


def _groups(topics: list[Topic]) -> list[set[int]]:
    return [set(t.members) for t in topics]


class TestClusterTopics:
    def test_finds_one_topic_per_group_of_similar_texts(self) -> None:
        topics = cluster_topics(TEXTS)
        fraud = set(range(len(FRAUD)))
        atm = set(range(len(FRAUD), len(FRAUD) + len(ATM)))
        queue = set(range(len(FRAUD) + len(ATM), len(FRAUD) + len(ATM) + len(QUEUE)))
        found = _groups(topics)
        for group in (fraud, atm, queue):
            assert any(len(g & group) >= 3 and g <= group for g in found)

    def test_labels_a_topic_with_the_words_its_texts_share(self) -> None:
        labels = [t.label_words for t in cluster_topics(TEXTS)]
        assert any("信用卡" in words for words in labels)
        assert any("吞卡" in words for words in labels)

    def test_leaves_one_off_texts_out(self) -> None:
        one_offs = set(range(len(TEXTS) - len(ONE_OFFS), len(TEXTS)))
        assert all(not (g & one_offs) for g in _groups(cluster_topics(TEXTS)))

    def test_size_counts_the_members(self) -> None:
        assert all(t.size == len(t.members) for t in cluster_topics(TEXTS))

    def test_largest_topic_comes_first(self) -> None:
        sizes = [t.size for t in cluster_topics(TEXTS)]
        assert sizes == sorted(sizes, reverse=True)

    def test_the_same_texts_give_the_same_topics(self) -> None:
        assert cluster_topics(TEXTS) == cluster_topics(TEXTS)

    def test_no_topic_is_smaller_than_min_size(self) -> None:
        assert all(t.size >= 5 for t in cluster_topics(TEXTS, min_size=5))

    def test_max_topics_bounds_how_many_come_back(self) -> None:
        assert len(cluster_topics(TEXTS, max_topics=1)) == 1

    @pytest.mark.parametrize("texts", [[], ["只有一条"], ["苹果", "香蕉", "橙子", "葡萄"]])
    def test_too_little_to_group_gives_no_topics(self, texts: list[str]) -> None:
        assert cluster_topics(texts) == []

    @pytest.mark.parametrize("texts", [["123 456"] * 7, ["银行 问题 !!"] * 4])
    def test_texts_sharing_only_numbers_or_common_words_give_no_topics(
            self, texts: list[str]) -> None:
        # Found by the API fuzzing (tests/api/test_fuzz.py): no word left to group by was a 500.
        assert cluster_topics(texts) == []

    def test_common_words_do_not_name_a_topic(self) -> None:
        texts = [f"银行客户反映{x}问题" for x in ("盗刷", "盗刷了", "盗刷啊")] * 2
        words = [w for t in cluster_topics(texts) for w in t.label_words]
        assert not {"银行", "客户", "反映", "问题"} & set(words)

    @pytest.mark.parametrize("copies", [40, 80, 300])
    def test_templated_texts_with_fewer_wordings_than_clusters_are_grouped(
        self, copies: int
    ) -> None:
        # Few distinct wordings, many copies: k-means leaves some of its groups empty, and
        # their centres (zero vectors) once broke the cosine merge.
        wordings = ["信用卡年费被乱收取要求退还", "手机银行转账失败资金被冻结",
                    "理财产品亏损涉嫌销售误导", "网点排队时间太长服务差"]
        texts = [wordings[i % len(wordings)] for i in range(copies)]
        topics = cluster_topics(texts)
        found = sorted(sorted(t.members) for t in topics)
        assert found == sorted([i for i in range(copies) if i % len(wordings) == w]
                               for w in range(len(wordings)))

    def test_one_text_repeated_is_one_topic(self) -> None:
        topics = cluster_topics(["信用卡年费被重复扣款要求退还"] * 60)
        assert [t.members for t in topics] == [list(range(60))]
