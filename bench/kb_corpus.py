"""Generated 公文 for the knowledge-base scale benchmark: cheap, deterministic, realistic in shape.

Each document is a 年度工作汇报, 工作总结 or 工作要点 of one office (city or county departments,
a few under the sample's own offices in other years), with front matter, the 一、（一） heading
hierarchy, "一是……二是……" paragraphs, figures with units and the stock phrases of the genre.
Every （一） section is sized (~380–470 characters) to become one chunk, so a document of
CHUNKS_PER_DOC sections gives that many chunks and a corpus of n documents is nested in one of
n + m: the 10,000-chunk corpus is the first part of the 50,000 one, and so on.
"""

from __future__ import annotations

import random
from pathlib import Path

CHUNKS_PER_DOC = 20

CITIES = [
    "禾川市", "青石县", "云岭市", "临江市", "白河县", "松桥区", "南湖市", "东平县", "石门市", "柳安县",
    "金川区", "清溪县", "北山市", "丰河县", "安宁市", "西林县", "泉州湾区", "长乐县", "凤台市", "平阳县",
]  # fmt: skip
OFFICES = [
    "人大常委会办公室", "政协办公室", "司法局", "文化广电和旅游局", "财政局", "教育局", "卫生健康委员会",
    "生态环境局", "交通运输局", "农业农村局", "市场监督管理局", "应急管理局", "民政局",
    "人力资源和社会保障局", "住房和城乡建设局", "自然资源和规划局", "水利局", "商务局", "统计局",
    "审计局", "信访局", "退役军人事务局", "医疗保障局", "林业局", "科学技术局", "工业和信息化局",
    "发展和改革委员会", "政务服务数据管理局", "机关事务管理局", "档案馆",
]  # fmt: skip
SAMPLE_OFFICES = ["禾川市人大常委会办公室", "禾川市政协办公室", "禾川市司法局", "禾川市文化广电和旅游局"]
FIELDS = [
    "安全生产", "乡村振兴", "营商环境", "生态环境保护", "政务服务", "基层治理", "法治宣传", "公共文化服务",
    "医疗保障", "就业创业", "社会救助", "城市更新", "防汛抗旱", "森林防火", "食品安全", "项目建设",
    "招商引资", "数字政府", "档案管理", "信访维稳", "耕地保护", "农村人居环境整治", "河湖长制",
    "文明城市创建", "民族团结进步", "退役军人服务保障", "审计监督", "统计调查", "科技创新", "老旧小区改造",
    "政务公开", "机关党建", "意识形态工作", "干部队伍建设", "财政预算管理", "国有资产管理", "教育教学质量",
    "义务教育优质均衡", "全民健身", "旅游市场秩序", "非物质文化遗产保护", "养老服务", "住房保障",
    "交通基础设施", "农村公路养护", "水资源管理", "矿产资源管理", "市场主体培育", "知识产权保护",
]  # fmt: skip
MEASURES = [
    "健全工作机制", "压实主体责任", "强化督导检查", "完善制度体系", "加大资金投入", "创新工作方式",
    "深化部门协同", "强化数字赋能", "抓好宣传引导", "加强队伍建设", "开展专项整治", "推进标准化建设",
    "落实包保责任", "建立问题清单", "完善考核评价", "畅通群众诉求渠道",
]  # fmt: skip
ACTIONS = [
    ("召开", "专题会议", "次"), ("开展", "督导检查", "次"), ("印发", "制度文件", "件"), ("组织", "业务培训", "场"),
    ("排查", "风险隐患", "处"), ("办理", "群众诉求", "件"), ("完成", "重点项目", "个"), ("培训", "业务骨干", "人次"),
    ("走访", "企业和群众", "户"), ("发放", "宣传资料", "万份"), ("建成", "服务站点", "个"), ("整改", "突出问题", "个"),
    ("推送", "政务信息", "条"), ("举办", "宣传活动", "场"), ("落实", "补助资金", "万元"), ("受理", "投诉举报", "件"),
]  # fmt: skip
OPENERS = [
    "坚持以习近平新时代中国特色社会主义思想为指导，", "在上级部门的精心指导下，", "紧扣年度目标任务，",
    "围绕中心、服务大局，", "聚焦群众急难愁盼问题，", "按照“项目化、清单化、责任化”要求，", "坚持问题导向和目标导向，",
]  # fmt: skip
CLOSERS = [
    "工作成效得到上级部门充分肯定。", "群众满意度进一步提升。", "相关经验做法在全市推广。",
    "形成了一批可复制可推广的经验。", "为全年目标任务完成奠定了基础。", "工作规范化水平明显提高。",
]  # fmt: skip
PROBLEMS = [
    "工作发展还不够平衡，基层力量相对薄弱", "创新手段运用不够，信息化水平有待提升", "部门协同还不够紧密，合力有待增强",
    "制度执行还不到位，督促落实的刚性不足", "宣传引导的针对性不强，群众知晓率不高", "专业人才短缺，队伍结构有待优化",
]  # fmt: skip
NUMERALS = "一二三四五六七八九十"


def _cn(n: int) -> str:
    return NUMERALS[n - 1] if n <= 10 else "十" + NUMERALS[n - 11]


def _sentence(rng: random.Random, field: str) -> str:
    verb, obj, unit = rng.choice(ACTIONS)
    n = rng.randint(2, 480)
    if rng.random() < 0.35:
        return f"全年{verb}{field}{obj}{n}{unit}，较上年增长{rng.randint(1, 40)}.{rng.randint(0, 9)}%。"
    if rng.random() < 0.5:
        return f"围绕{field}{rng.choice(MEASURES)}，{verb}{obj}{n}{unit}，{rng.choice(CLOSERS)}"
    return f"{rng.choice(OPENERS)}{rng.choice(MEASURES)}，{verb}{obj}{n}{unit}，推动{field}工作取得新进展。"


def _section(rng: random.Random, field: str, order: int) -> str:
    parts = [f"{NUMERALS[order % 10]}是{rng.choice(MEASURES)}。"]
    target = rng.randint(380, 470)
    size = len(parts[0])
    while size < target:
        s = _sentence(rng, field)
        parts.append(s)
        size += len(s)
    return "".join(parts)


def document(i: int, seed: int = 7) -> tuple[str, str]:
    """(relative path, text) of generated document i: the same i always gives the same document."""
    rng = random.Random(seed * 1_000_003 + i)
    office = rng.choice(SAMPLE_OFFICES) if rng.random() < 0.02 else rng.choice(CITIES) + rng.choice(OFFICES)
    year = rng.randint(2012, 2025)
    kind = rng.choices(["report", "policy", "other"], weights=[6, 3, 1])[0]
    topic = rng.choice(FIELDS)
    title = {
        "report": f"{office}{year}年度{topic}工作汇报",
        "policy": f"{office}{year}年{topic}工作要点",
        "other": f"{office}{year}年{topic}工作总结",
    }[kind]
    folder = {"report": "past-reports", "policy": "policies", "other": "other"}[kind]
    fields = [topic] + rng.sample(FIELDS, 4)
    lines = [
        "---",
        f"title: {title}",
        f"kind: {kind}",
        f"year: {year}",
        f"organisation: {office}",
        "---",
        title,
        "",
        f"{year}年，{office}{rng.choice(OPENERS)}扎实推进{topic}等各项工作，现将有关情况汇报如下：",
        "",
    ]
    parts = ["一、工作做法及成效", "二、存在的问题及改进措施", "三、下一步工作打算"]
    per_part = [CHUNKS_PER_DOC - 6, 3, 3]
    n = 0
    for p, (part, count) in enumerate(zip(parts, per_part)):
        lines += [part, ""]
        for j in range(count):
            field = fields[(n + p) % len(fields)]
            if p == 1:
                heading = f"（{NUMERALS[j]}）{rng.choice(PROBLEMS)}"
            else:
                heading = f"（{_cn(j + 1)}）{rng.choice(MEASURES)}，推动{field}提质增效"
            lines += [heading, "", _section(rng, field, j), ""]
            n += 1
    return f"generated/{folder}/{i // 500:03d}/{i:06d}.md", "\n".join(lines)


def write_corpus(root: Path, start: int, stop: int) -> int:
    """Write documents start..stop-1 under root; returns the number written."""
    for i in range(start, stop):
        rel, text = document(i)
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return stop - start
