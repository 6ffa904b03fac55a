#!/usr/bin/env python3
"""Sanity checks for eval/qa.jsonl (standard library only).

Usage: python3 eval/check_qa.py [qa.jsonl] [seeds_dir]

Checks:
  * every line parses as JSON with the expected keys, ids q001.. in order
  * non-null evidence is an exact substring of the named doc's raw text, lies
    on a single line, is 8-80 chars and carries no HTML tags (for multi-doc,
    evidence[i] is checked against doc[i])
  * for answerable items the answer (or each answer_part) occurs in the doc(s)
    (table amounts written as "<number>万元" are accepted when <number>
    occurs in the evidence and the doc has the "投资金额 (万元)" column)
  * unanswerable items have doc/evidence null, answer "", and their probe
    terms do not occur in any seed document
  * paraphrase items share no 3-char CJK substring with their evidence
    (apart from a few trivial ones)
  * evidence does not come from 000's repeated garbled paragraphs
Prints counts per type and per doc; exit status 1 on errors.
"""

import json
import os
import re
import sys
import unicodedata
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
QA = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "qa.jsonl")
SEEDS_CANDIDATES = [sys.argv[2]] if len(sys.argv) > 2 else [os.path.join(HERE, "..", "seeds"), "/work/shared/seeds"]

TYPES = {"factoid", "numeric", "list", "multi-doc", "unanswerable", "paraphrase", "summary"}
KEYS = ["id", "question", "answer", "answer_aliases", "answer_parts", "doc", "evidence", "type", "split"]
KEYS_WITH_ORIGIN = KEYS + ["origin"]  # optional trailing "origin" key ("independent", "independent-dev", "holdout")
MINIMA = {"factoid": 30, "numeric": 30, "list": 6, "multi-doc": 5, "summary": 5, "paraphrase": 18, "unanswerable": 20}
TRIVIAL_3GRAMS = {"南昌市", "是多少", "有多少", "多少个", "多少家", "是什么", "为多少", "是哪个", "是哪些"}
GARBLED = ["是南昌市做大做强产业发展平台", "在追“高”逐“新”的过程中"]

# Probe strings for unanswerable questions (keyed by question text): none of
# them may occur in any seed document.
UNANS_PROBES = {
    "南昌硬质合金有限责任公司2023年的营业收入是多少？": ["营业收入", "营收"],  # checked within the 000 doc only below
    "南昌海立电器有限公司2023年全年空调压缩机产量是多少台？": ["万台", "产量达", "产量为", "全年产量"],
    "2022年南昌规模以上工业增加值同比增长多少？": ["2022年，南昌规模以上", "2022年南昌规模以上", "2022年,全市规模以上"],
    "2023年赣州规模以上工业增加值增长多少？": ["规模以上工业增加值增长", "规上工业增加值增长"],
    "新余高新区2023年地区生产总值是多少？": ["新余高新区地区生产总值", "新余高新区生产总值"],
    "江西赣锋锂业集团股份有限公司2023年营业收入是多少？": ["赣锋锂业营业收入", "赣锋营收", "赣锋锂业营收"],
    "华勤千亿产业基地项目建成后能提供多少个就业岗位？": ["就业岗位"],
    "欣旺达南昌动力电池生产基地项目一期的投资额是多少？": ["一期投资", "一期总投资"],
    "江铃股份烈马产线项目的总投资是多少？": ["烈马产线项目总投资", "烈马产线项目投资"],
    "常州高新区2022年地区生产总值是多少？": ["2022年，园区", "2022年园区", "2022年，常州高新区"],
    "南昌VR科创城起步区目前已入驻多少家企业？": ["入驻企业", "已入驻"],
    "中国科学院赣江创新研究院有多少名科研人员？": ["科研人员", "研究人员约", "名研究人员"],
    "2021年九江市规模以上工业增加值增长多少？": ["九江市规模", "九江规模"],
    "宜春市锂电新能源产业2023年营业收入是多少？": ["宜春"],
    "2023年南昌市地区生产总值是多少？": ["2023年南昌GDP", "2023年南昌地区生产总值", "2023年，南昌地区生产总值"],
    "赣州市2024年一季度全社会用电量是多少？": ["赣州市一季度全社会用电量", "赣州一季度"],
    "景德镇陶瓷产业2022年营业收入是多少？": ["景德镇"],
    "新余钢铁集团2023年粗钢产量是多少万吨？": ["新余钢铁", "新钢", "粗钢"],
    "上饶晶科能源2023年光伏组件出货量是多少？": ["晶科", "上饶"],
    "2021年南昌市新能源汽车产量是多少辆？": ["新能源汽车产量"],
    "萍乡经开区2023年引进了多少个亿元以上项目？": ["萍乡"],
    "吉安市电子信息产业2022年营业收入是多少？": ["吉安"],
}
# probes that are only checked against one doc (the term itself occurs elsewhere)
UNANS_PROBE_DOC = {
    "南昌硬质合金有限责任公司2023年的营业收入是多少？": "000_3077e08b737df0c0.txt",
    "南昌海立电器有限公司2023年全年空调压缩机产量是多少台？": "000_3077e08b737df0c0.txt",
    "欣旺达南昌动力电池生产基地项目一期的投资额是多少？": "001_1671bd4fc93f4603.txt",
}

# Probes for the unanswerable items of eval/qa_independent.jsonl (origin: independent).
UNANS_PROBES.update(
    {
        "2022年南昌电子信息产业营业收入是多少？": ["2022年，规上电子信息", "2022年电子信息", "2022年，电子信息"],
        "2021年赣州地区生产总值是多少？": ["2021年，赣州", "2021年赣州"],
        "新余高新区目前有多少家高新技术企业？": ["新余高新区高新技术企业", "新余高新区拥有高新技术企业"],
        "内江高新区2023年地区生产总值是多少？": ["内江高新区地区生产总值", "内江高新区生产总值", "2023年，内江"],
        "赣州市2023年规模以上工业企业有多少户？": ["规模以上工业企业", "规上工业企业", "规上企业"],
        "常州高新区今年上半年规模以上工业增加值增长多少？": [
            "常州高新区规模以上工业增加值",
            "常州高新区规上工业增加值",
            "园区规模以上工业增加值",
        ],
        "项目清单里VR科创城项目建成后预计年产值是多少？": ["VR科创城年产值", "VR科创城预计年产值", "VR 科创城年产值"],
        "南昌港东新港区姚湾作业区综合码头项目的占地面积是多少？": [
            "姚湾作业区占地",
            "码头项目占地",
            "泊位及 1 线船台滑道。项目占地",
        ],
        "江铃新能源汽车新基地及工程研究院建设项目建成后年产值是多少？": [
            "工程研究院建设项目年产值",
            "规划年产能30万辆,年产值",
        ],
        "江西省医疗器械科技产业园建成后预计年产值是多少？": ["医疗器械科技产业园年产值", "入驻。年产值"],
        "2020年南昌规上航空装备产业营业收入是多少亿元？": [
            "航空装备产业（不含军工）营业收入为",
            "航空装备产业营业收入为",
            "航空装备产业实现营业收入",
        ],
        "2020年南昌新型材料产业营业收入是多少？": [
            "新型材料产业营业收入为",
            "新型材料产业实现营业收入",
            "规上新型材料",
        ],
        "2021年南昌汽车和新能源汽车产业营业收入是多少？": [
            "2021年，规上汽车",
            "汽车和新能源汽车产业营业收入为",
            "汽车和新能源汽车产业实现营业收入",
        ],
        "2023年赣州战略性新兴产业增加值增长多少？": [
            "2023年，赣州市战略性",
            "2023年赣州市战略性",
            "2023年，战略性",
            "2023年战略性",
        ],
        "南康区2023年实施了多少个“八大行动”项目？": ["2023年该区实施", "2023年南康区实施", "2023年，南康区实施"],
        "新余高新区今年引进了多少个亿元以上项目？": ["亿元以上项目", "亿元以上"],
        "内江高新区有多少家规模以上工业企业？": [
            "内江高新区规模以上工业企业",
            "内江高新区拥有规模以上",
            "内江高新区现有规上",
        ],
        "2021年南昌规模以上工业营业收入是多少？": [
            "2021年，全年规模以上工业营业收入",
            "2021年规模以上工业营业收入",
            "2021年，规模以上工业营业收入",
        ],
        "赣州2023年专利授权量是多少件？": ["专利授权", "授权量"],
        "新余高新区企业专利质押融资金额是多少？": ["质押"],
        "常州高新区有多少家国家级绿色工厂？": ["绿色工厂"],
        "南昌经开区2023年地区生产总值是多少？": [
            "南昌经开区地区生产总值",
            "南昌经开区生产总值",
            "经开区实现地区生产总值",
        ],
        "南昌海立电器有限公司有多少名员工？": ["名员工", "员工总数", "职工人数"],
        "南昌硬质合金有限责任公司是哪一年成立的？": [
            "硬质合金有限责任公司成立于",
            "硬质合金成立于",
            "硬质合金有限责任公司成立",
        ],
        "江西九二盐业有限责任公司一年的产值是多少？": ["年产值", "产值"],
        "青峰医药集团2023年的营业收入是多少？": [
            "青峰医药集团营业收入",
            "青峰医药营收",
            "青峰医药集团年营收",
            "青峰医药集团销售收入达",
        ],
        "山东凯马汽车赣州分公司2023年新能源商用车卖了多少辆？": ["万辆", "销量达", "销量为"],
        "章贡区医药健康产业2023年的产值是多少？": ["产值"],
        "南康区的无人机产业集群聚集了多少家企业？": ["无人机企业", "家无人机"],
        "航天联志内江先进算力产业园项目计划什么时候建成投产？": ["算力产业园项目预计", "算力产业园将于", "预计投产"],
        "辽宁双智数字赋能中心的总投资是多少？": ["赋能中心总投资", "赋能中心投资", "赋能中心项目总投资"],
        "随州高新区有多少家高新技术企业？": ["随州高新区高新技术企业", "随州高新区拥有", "随州高新区现有"],
        "银川市2023年规模以上工业增加值增长多少？": ["银川市规模以上", "银川市规上", "银川规上", "银川市工业增加值"],
        "2021年度南昌林长制考核排名第一的是哪个县区？": ["2021年度林长制工作考核", "2021年度林长制考核"],
        "2021年8月南昌市长万广明会见了哪些企业负责人？": ["8月1日", "8月2日", "2021年8月", "8月上旬"],
        "华勤千亿产业基地项目二期占地多少亩？": ["二期占地", "二期面积"],
        "南昌VR科创城二期的建设面积是多少？": ["二期建设面积", "二期面积"],
        "中国电信江西云和大数据中心一期工程能容纳多少个机柜？": ["机柜"],
        "2020年南昌现代针纺产业营业收入同比增长了多少？": [
            "现代针纺产业实现营业收入281.5亿元，同比",
            "现代针纺产业营业收入增长",
            "281.5亿元，同比增长",
            "281.5亿元，增长",
        ],
        "2021年赣州电子信息产业营业收入是多少？": [
            "电子信息产业营业收入",
            "电子信息产业实现",
            "电子信息产业主营业务收入",
        ],
        "2021年南昌每万人有效发明专利拥有量是多少件？": ["2021年，南昌每万人", "2021年每万人", "2021年，每万人"],
        "内江高新区2024年计划新培育多少家专精特新企业？": ["内江高新区专精特新", "新培育专精特新", "培育专精特新企业"],
        "新余高新区江西炬煌磁科技有限公司无取向硅钢年产能是多少万吨？": ["万吨无取向", "无取向硅钢年产", "年产能"],
        "2021年南昌航空城实际完成投资多少亿元？": ["2021年，航空城", "2021年航空城", "航空城完成投资"],
    }
)
UNANS_PROBE_DOC.update(
    {
        "赣州市2023年规模以上工业企业有多少户？": "002_ce6db33a5f8ed3b8.txt",
        "新余高新区今年引进了多少个亿元以上项目？": "004_50c721a1e63a8171.txt",
        "赣州2023年专利授权量是多少件？": "002_ce6db33a5f8ed3b8.txt",
        "新余高新区企业专利质押融资金额是多少？": "004_50c721a1e63a8171.txt",
        "常州高新区有多少家国家级绿色工厂？": "004_50c721a1e63a8171.txt",
        "南昌海立电器有限公司有多少名员工？": "000_3077e08b737df0c0.txt",
        "江西九二盐业有限责任公司一年的产值是多少？": "002_ce6db33a5f8ed3b8.txt",
        "山东凯马汽车赣州分公司2023年新能源商用车卖了多少辆？": "002_ce6db33a5f8ed3b8.txt",
        "章贡区医药健康产业2023年的产值是多少？": "002_ce6db33a5f8ed3b8.txt",
        "航天联志内江先进算力产业园项目计划什么时候建成投产？": "004_50c721a1e63a8171.txt",
        "2021年赣州电子信息产业营业收入是多少？": "002_ce6db33a5f8ed3b8.txt",
        "新余高新区江西炬煌磁科技有限公司无取向硅钢年产能是多少万吨？": "004_50c721a1e63a8171.txt",
    }
)

# Probes for the unanswerable items of origin independent-dev (written over the seeds only).
UNANS_PROBES.update(
    {
        "2021年南昌生物医药产业营业收入同比增长了多少？": [
            "生物医药产业实现营业收入350.6亿元，同比",
            "350.6亿元，同比增长",
            "350.6亿元，增长",
            "生物医药产业营业收入同比增长",
        ],
        "2023年南昌全市规模以上工业企业有多少户？": [
            "2023年，全市规模以上工业企业总户数",
            "2023年全市规模以上工业企业",
            "2023年规模以上工业企业总户数",
        ],
        "赣州2022年的地区生产总值是多少亿元？": [
            "2022年，赣州地区生产总值",
            "2022年赣州地区生产总值",
            "2022年，赣州GDP",
            "2022年赣州GDP",
        ],
        "2024年常州高新区地区生产总值是多少？": [
            "2024年，园区地区生产总值",
            "2024年园区地区生产总值",
            "2024年，常州高新区地区生产总值",
        ],
        "新余高新区累计培育了多少家国家级绿色工厂？": ["绿色工厂"],
        "新余市一季度工业用电量是多少？": ["新余市一季度", "新余一季度", "新余市工业用电"],
        "2023年南昌新增商标申请量同比增长多少？": [
            "商标申请量30659件，增长",
            "商标申请量30659件,增长",
            "30659件,同比",
            "30659件，同比",
            "商标申请量增长",
        ],
        "南昌海立电器2023年空调压缩机卖了多少台？": ["压缩机销量", "销量达", "销量为", "万台"],
        "姚湾作业区综合码头项目建成后年产值是多少？": [
            "码头项目年产值",
            "码头项目建成后",
            "泊位及 1 线船台滑道。年产值",
        ],
        "南昌智造谷项目建成后能带来多少就业岗位？": ["就业岗位", "个岗位", "就业人数"],
        "青峰医药集团今年有望上市的那款化药创新药叫什么名字？": [
            "化药创新药名为",
            "化药创新药为",
            "化药创新药“",
            "化药创新药《",
        ],
        "江西卫棉纺织集团2023年营业收入是多少？": [
            "卫棉纺织集团有限公司营业收入",
            "卫棉纺织集团营收",
            "卫棉纺织集团年营收",
            "卫棉纺织集团营业收入",
        ],
        "赣州富尔特电子2023年实际营收是多少？": [
            "2023年，富尔特",
            "富尔特公司2023年",
            "富尔特2023年营收",
            "2023年，该公司营收",
        ],
        "宁都县童装智造产业园入驻了多少家企业？": ["童装智造产业园入驻", "家童装企业", "童装企业"],
        "南昌高新区2023年引进了多少个亿元以上项目？": ["亿元以上"],
        "随州高新区2023年地区生产总值是多少？": [
            "随州高新区地区生产总值",
            "随州高新区生产总值",
            "随州高新区GDP",
            "随州高新区实现地区生产总值",
        ],
        "宁夏永宁工业园区有多少家规模以上工业企业？": [
            "永宁工业园区规模以上",
            "永宁工业园区规上",
            "永宁工业园区拥有",
            "永宁工业园区现有",
        ],
        "2022年银川市制造业企业数字化研发设计工具普及率是多少？": [
            "2022年，银川",
            "2022年银川",
            "2022年数字化研发设计工具",
            "2022年，数字化研发",
        ],
        "2019年南昌GDP是多少？": [
            "2019年南昌GDP",
            "2019年,南昌GDP",
            "2019年南昌地区生产总值",
            "2019年，全市地区生产总值",
            "2019年全市地区生产总值",
            "2019年南昌市地区生产总值",
        ],
        "2020年武汉的GDP是多少？": ["武汉GDP为", "武汉地区生产总值", "武汉市GDP", "武汉市地区生产总值", "武汉的GDP"],
        "2021年南昌第一产业增加值是多少？": [
            "2021年南昌市第一产业",
            "2021年第一产业增加值",
            "2021年，第一产业",
            "2021年，南昌第一产业",
        ],
        "2020年南昌规上汽车和新能源汽车产业主营业务收入同比增长多少？": [
            "突破1200亿元，同比",
            "突破1200亿元,同比",
            "突破1200亿元，增长",
            "汽车和新能源汽车产业主营业务收入同比",
            "汽车和新能源汽车产业主营业务收入增长",
        ],
        "2021年南昌新认定了多少家高新技术企业？": [
            "2021 年,新认定高新技术企业",
            "2021年新认定高新技术企业",
            "2021年，新认定高新技术",
            "2021年,新认定高新技术",
        ],
        "青山湖区2022年电子商务交易额是多少？": [
            "2022年电子商务交易额",
            "2022年，电子商务交易额",
            "2022年青山湖区电子商务",
            "2022年，青山湖区",
        ],
        "江西五十铃汽车有限公司一年能产多少辆车？": [
            "五十铃汽车有限公司产量",
            "五十铃产量",
            "五十铃汽车产销",
            "五十铃年产",
            "五十铃汽车有限公司年产",
        ],
        "南昌华勤电子科技有限公司2021年营业收入是多少？": [
            "华勤2021年营业收入",
            "华勤电子科技有限公司营业收入",
            "华勤营收",
            "华勤电子科技有限公司实现营业收入",
        ],
        "龙旗“5G+智慧工厂”项目总投资是多少？": [
            "龙旗“5G+智慧工厂”项目总投资",
            "龙旗5G+智慧工厂项目投资",
            "龙旗“5G+智慧工厂”项目投资",
        ],
        "抚州市数字经济产业营业收入是多少？": [
            "抚州市数字经济产业营业",
            "抚州数字经济产业营业收入",
            "抚州市营业收入",
            "抚州数字经济营收",
        ],
        "中国科学院赣江创新研究院是哪一年成立的？": [
            "赣江创新研究院成立于",
            "赣江创新研究院于",
            "年成立的中国科学院赣江",
            "赣江创新研究院成立",
        ],
        "国家稀土功能材料创新中心落户在赣州哪个区？": [
            "国家稀土功能材料创新中心落户",
            "国家稀土功能材料创新中心位于",
            "稀土功能材料创新中心在",
        ],
        "江西赣能电子有限公司有多少名员工？": ["名员工", "员工人数", "员工总数", "员工近"],
        "赣州科视光学科技有限公司去年订单金额是多少？": ["订单金额", "订单额", "订单总额", "订单量"],
        "江西炬煌磁科技有限公司数字化改造花了多少钱？": [
            "炬煌磁科技有限公司投资",
            "数字化提升改造投资",
            "改造投资",
            "改造投入",
        ],
        "江西香海生物科技有限公司一年产值是多少？": ["年产值", "香海生物科技有限公司产值"],
        "航天联志内江先进算力产业园项目占地多少亩？": ["亩", "算力产业园项目占地", "算力产业园占地"],
        "西南氢能装备研发制造基地项目建成后年产值是多少？": ["年产值", "氢能装备研发制造基地项目年产值"],
        "南昌县洪燕学校有多少名在校学生？": ["名学生", "学生总数", "在校生", "在校学生"],
        "《南昌市企业劳动规章制度（参考文本）》一共有多少条？": ["共一百", "共有一百", "全文共", "共计", "条款共"],
        "湾里罗亭工业园2023年规模以上工业增加值是多少？": [
            "罗亭工业园规模以上",
            "罗亭工业园规上",
            "罗亭工业园工业增加值",
            "罗亭工业园实现",
        ],
        "西二绕城高速什么时候建成通车？": ["西二绕城高速项目预计", "西二绕城高速将于", "建成通车"],
        "2021年度南昌林长制考核中新建区得了多少分？": [
            "2021年度林长制工作考核",
            "2021年度林长制考核",
            "2021年度,新建区",
        ],
        "江西阿顺供应链有限公司食品供应项目建成后年产值多少？": [
            "食品供应项目年产值",
            "食品供应项目建成后",
            "食品供应项目达产后",
        ],
        "中国（南昌）数字经济港建成后能吸引多少家企业入驻？": [
            "数字经济港入驻",
            "家企业入驻数字经济港",
            "数字经济港建成后",
        ],
        "南昌光谷核心区产业化项目占地多少亩？": [
            "光谷核心区产业化项目占地",
            "光谷核心区占地",
            "光谷核心区产业化项目用地",
        ],
        "北航江西研究院试验中心建成后能容纳多少名科研人员？": ["名科研人员", "科研人员", "名研究人员"],
        "2023年南昌地区生产总值增速是多少？": [
            "2023年，南昌地区生产总值增速",
            "南昌地区生产总值增速",
            "2023年南昌GDP增速",
            "2023年，南昌GDP",
        ],
        "常州高新区出资多少支持企业参与省级“锂电产业链”科创基金组建？": ["常州高新区出资"],
        "内江高新区与哪所大学共建了锂电产业技术研究院？": ["内江锂电产业技术研究院", "内江高新区与", "共建内江"],
        "2024年赣州地区生产总值增速是多少？": ["2024年，赣州地区生产总值", "2024年赣州地区生产总值", "2024年，赣州GDP"],
        "欣旺达南昌动力电池生产基地项目预计什么时候全面达产？": ["全面达产", "预计达产", "年达产", "达产时间"],
        "2022年南昌百亿企业数量达到多少户？": ["2022年，全市百亿企业", "2022年全市百亿企业", "2022年百亿企业"],
        "常州高新区2023年地方一般公共预算收入同比增长多少？": [
            "超144亿元，增长",
            "超144亿元,增长",
            "一般公共预算收入增长",
            "一般公共预算收入同比",
        ],
    }
)
UNANS_PROBE_DOC.update(
    {
        "新余高新区累计培育了多少家国家级绿色工厂？": "004_50c721a1e63a8171.txt",
        "南昌海立电器2023年空调压缩机卖了多少台？": "000_3077e08b737df0c0.txt",
        "南昌高新区2023年引进了多少个亿元以上项目？": "000_3077e08b737df0c0.txt",
        "江西赣能电子有限公司有多少名员工？": "002_ce6db33a5f8ed3b8.txt",
        "江西炬煌磁科技有限公司数字化改造花了多少钱？": "004_50c721a1e63a8171.txt",
        "江西香海生物科技有限公司一年产值是多少？": "004_50c721a1e63a8171.txt",
        "航天联志内江先进算力产业园项目占地多少亩？": "004_50c721a1e63a8171.txt",
        "西南氢能装备研发制造基地项目建成后年产值是多少？": "004_50c721a1e63a8171.txt",
        "南昌县洪燕学校有多少名在校学生？": "000_3077e08b737df0c0.txt",
        "《南昌市企业劳动规章制度（参考文本）》一共有多少条？": "000_3077e08b737df0c0.txt",
    }
)
# end of independent-dev probes

# Probes for the unanswerable items of eval/holdout.jsonl (origin: holdout).
UNANS_PROBES.update(
    {
        "2022年南昌工业投资同比增长了多少？": [
            "2022年工业投资",
            "2022年，工业投资",
            "2022年,工业投资",
            "2022年，南昌工业投资",
        ],
        "2020年南昌全市规模以上工业企业有多少户？": [
            "规模以上工业企业总户数",
            "规模以上工业企业户数",
            "规上工业企业户数",
            "规模以上工业企业达",
        ],
        "青山湖区2020年电子商务交易额是多少？": ["2020年电子商务交易额", "2020年，青山湖区", "2020年青山湖区"],
        "欣旺达南昌动力电池生产基地项目一期产能是多少GWh？": ["一期产能", "一期项目产能", "一期达产"],
        "华兴针织今年上半年的产值是多少？": ["上半年"],
        "大余县锂电新能源产业去年产值多少？": ["大余县锂电", "大余锂电", "大余县新能源"],
        "南康区在深圳签约的23个项目里投资最大的是哪个？": ["投资最大", "最大的项目"],
        "曜灵新能源光伏产业制造项目什么时候能建成投产？": [
            "曜灵新能源光伏产业制造项目预计",
            "曜灵新能源光伏产业制造项目将于",
            "建成投产",
        ],
        "上犹创新研究院是哪一年成立的？": ["上犹创新研究院成立", "上犹创新研究院于", "年成立"],
        "宁都县童装智造产业园占地多少亩？": ["亩"],
        "江西卫棉纺织集团有多少名员工？": ["卫棉纺织集团有限公司员工", "卫棉纺织集团员工", "名员工", "员工人数"],
        "赣州科视光学科技有限公司一年产值多少？": ["产值"],
        "南昌经开区对列入市级绿色工厂的企业奖励多少钱？": ["市级绿色工厂"],
        "2022年南昌新增专利授权量是多少件？": [
            "2022年,南昌新增专利",
            "2022年南昌新增专利",
            "2022年，南昌新增专利",
            "2022年新增专利",
        ],
        "2023年南昌实用新型专利授权了多少件？": ["实用新型专利授权量", "新增实用新型", "实用新型专利授权"],
        "2022年南昌高新区“法律明白人”调处了多少起矛盾纠纷？": [
            "2022年,南昌高新区",
            "2022年南昌高新区",
            "2022年，南昌高新区",
        ],
        "南昌县洪燕学校有几名心理辅导老师？": ["名心理", "心理老师", "心理教师", "名老师", "名教师"],
        "南昌维科2GWh钠离子储能电池项目总投资多少？": [
            "维科2GWh钠离子储能电池项目总投资",
            "维科2GWh钠离子储能电池项目投资",
            "钠离子储能电池项目总投资",
        ],
        "杭电股份新能源汽车锂电池超薄箔项目年产能是多少？": ["超薄箔项目年产", "年产超薄箔", "超薄箔年产"],
        "比亚迪常州基地一年的产值是多少？": ["比亚迪常州基地产值", "比亚迪常州基地年产值", "比亚迪常州基地实现"],
        "常州高新区今年新增了几个院士工作站？": ["新增院士工作站", "院士工作站新增", "新建院士工作站"],
        "内江高新区2023年规模以上工业增加值增速是多少？": ["2023年，内江", "2023年内江", "2023年规模以上工业增加值"],
        "西南氢能装备研发制造基地项目是哪家公司投资建设的？": [
            "有限公司投资建设",
            "公司投资的西南氢能",
            "西南氢能装备研发制造基地项目由",
        ],
        "内江高新区今年签约的元宇宙项目投资了多少？": ["元宇宙项目投资", "元宇宙项目总投资", "元宇宙产业项目"],
        "随州丰碑产业园建设项目总投资多少？": ["丰碑产业园建设项目总投资", "丰碑产业园项目总投资", "丰碑产业园总投资"],
        "湖北晶星科技股份有限公司一年营业收入是多少？": [
            "晶星科技营业收入",
            "晶星科技营收",
            "晶星科技股份有限公司营业收入",
            "晶星科技年营收",
        ],
        "宁夏坚盾新材料有限公司一年能加工多少铝板？": ["万吨铝板", "吨铝板", "铝板年产"],
        "沈抚改革创新示范区合作设立的10只产业投资基金总规模是多少？": ["基金总规模", "基金规模", "亿元产业投资基金"],
        "江西沃格光电股份有限公司2023年营业收入是多少？": [
            "沃格光电营业收入",
            "沃格光电营收",
            "沃格光电股份有限公司营业收入",
            "沃格光电实现",
        ],
        "新余高新区规划面积有多少平方公里？": ["平方公里"],
        "华勤千亿产业基地项目三期占地多少亩？": ["三期占地", "三期用地", "三期面积"],
        "中国(南昌)现代职教城第二期计划投资多少？": ["二期投资", "二期计划投资", "第二期投资"],
        "南昌光谷核心区产业化项目建成后年产值多少？": [
            "光谷核心区产业化项目年产值",
            "光谷核心区年产值",
            "光谷核心区产业化项目建成后",
        ],
        "2021年南昌地区生产总值是多少？": [
            "2021年南昌GDP",
            "2021年南昌地区生产总值",
            "2021年，南昌地区生产总值",
            "2021年南昌市地区生产总值",
            "2021年，全市地区生产总值",
            "2021年全市地区生产总值",
        ],
        "2020年南昌R&D经费占GDP的比重是多少？": ["2020年，全市R&D", "2020年全市R&D", "2020年R&D", "2020年，R&D"],
        "2021年南昌规上绿色食品产业营业收入是多少？": [
            "2021年，规上绿色食品",
            "2021年规上绿色食品",
            "2021年绿色食品",
            "2021年，绿色食品",
        ],
        "赣州明高科技股份有限公司主要生产什么产品？": [
            "明高科技股份有限公司主要",
            "明高科技股份有限公司专注",
            "明高科技股份有限公司是一家",
        ],
        "江西赣能电子有限公司2023年营业收入是多少？": [
            "赣能电子有限公司营业收入",
            "赣能电子营收",
            "赣能电子有限公司实现",
            "赣能电子年营收",
        ],
        "常州高新区2023年新增了多少家外资企业？": ["新增外资企业", "新设外资企业", "新引进外资企业"],
        "南昌“十四五”期间计划新改建多少公里农村公路？": ["公里农村公路", "新改建", "农村公路里程"],
    }
)
UNANS_PROBE_DOC.update(
    {
        "2020年南昌全市规模以上工业企业有多少户？": "003_6ca689ba26ff1bad.txt",
        "欣旺达南昌动力电池生产基地项目一期产能是多少GWh？": "001_1671bd4fc93f4603.txt",
        "华兴针织今年上半年的产值是多少？": "001_1671bd4fc93f4603.txt",
        "南康区在深圳签约的23个项目里投资最大的是哪个？": "002_ce6db33a5f8ed3b8.txt",
        "曜灵新能源光伏产业制造项目什么时候能建成投产？": "002_ce6db33a5f8ed3b8.txt",
        "上犹创新研究院是哪一年成立的？": "002_ce6db33a5f8ed3b8.txt",
        "宁都县童装智造产业园占地多少亩？": "002_ce6db33a5f8ed3b8.txt",
        "江西卫棉纺织集团有多少名员工？": "002_ce6db33a5f8ed3b8.txt",
        "赣州科视光学科技有限公司一年产值多少？": "002_ce6db33a5f8ed3b8.txt",
        "南昌县洪燕学校有几名心理辅导老师？": "000_3077e08b737df0c0.txt",
        "新余高新区规划面积有多少平方公里？": "004_50c721a1e63a8171.txt",
        "南昌光谷核心区产业化项目建成后年产值多少？": "003_6ca689ba26ff1bad.txt",
    }
)
# end of holdout probes

# Probes for the unanswerable items of origin fresh-dev (written over the seeds only, without pipeline output).
UNANS_PROBES.update(
    {
        "2024年赣州地区生产总值是多少？": ["2024年，赣州地区生产总值", "2024年赣州地区生产总值", "2024年，赣州GDP"],
        "赣州富尔特电子的高端钕铁硼生产线项目总投资是多少？": [
            "钕铁硼生产线项目总投资",
            "富尔特电子股份有限公司总投资",
            "富尔特项目总投资",
        ],
        "大余县锂电新能源产业2023年营业收入是多少？": [
            "大余县锂电新能源产业营业收入",
            "锂电新能源产业营业收入",
            "锂电新能源产业实现营业收入",
        ],
        "南康区无人机产业集群有多少家企业？": ["无人机企业", "家无人机"],
        "山东凯马汽车赣州分公司去年卖了多少辆新能源商用车？": ["销量达", "万辆", "销售新能源商用车"],
        "信丰县纪委监委这次政治家访共走访了多少名干部？": ["名干部", "家访干部", "走访干部"],
        "新余高新区2023年规模以上工业增加值增长多少？": ["新余高新区规模以上工业增加值", "新余高新区规上工业增加值"],
        "赣锋循环科技年产2万吨电池级碳酸锂项目总投资多少？": [
            "碳酸锂项目总投资",
            "磷酸铁项目总投资",
            "赣锋循环科技有限公司总投资",
        ],
        "江西亿铂电子科技在纳斯达克上市募集了多少资金？": ["募集", "募资"],
        "比亚迪常州基地年产能是多少辆？": ["比亚迪常州基地年产", "万辆"],
        "内江高新区今年上半年地区生产总值是多少？": [
            "内江高新区地区生产总值",
            "内江高新区实现地区生产总值",
            "内江高新区生产总值",
        ],
        "随州高新区2023年引进了多少个项目？": ["随州高新区引进", "随州高新区签约", "随州高新区共引进"],
        "2021年南昌航空装备产业营业收入是多少？": [
            "航空装备产业营业收入为",
            "航空装备产业实现营业收入",
            "2021年，规上航空装备",
        ],
        "2021年南昌规模以上工业企业利润总额是多少？": ["利润总额", "实现利润"],
        "济民(小蓝)新药研发生产基地项目建成后年产值是多少？": [
            "新药研发生产基地项目年产值",
            "新药研发生产基地项目达产后",
            "新药研发生产基地项目建成后",
        ],
        "2023年南昌新增专利授权量在全国省会城市中排第几？": ["专利授权量在全国", "专利授权量排名", "专利授权量居"],
        "南昌硬质合金有限责任公司一年用电量是多少？": ["年用电量", "全年用电量", "年耗电量"],
        "南昌海立电器2023年空调压缩机产量同比增长多少？": [
            "2023年空调压缩机产量",
            "2023年产量",
            "全年空调压缩机产量",
            "2023年,空调压缩机产量",
        ],
        "新余市一季度全社会用电量是多少？": ["新余市一季度", "新余一季度", "新余市全社会用电量"],
        "赣州2023年规模以上工业企业营业收入是多少？": [
            "规模以上工业企业营业收入",
            "规上工业营业收入",
            "规上工业企业营业收入",
        ],
        "常州高新区2023年共引进了多少个优质项目？": [
            "2023年，共引进",
            "2023年引进",
            "2023年共引进",
            "2023年，常州高新区引进",
        ],
        "内江高新区去年规模以上工业增加值增长多少？": [
            "去年，内江高新区",
            "2023年，内江高新区规模",
            "内江高新区2023年",
        ],
        "赣州2023年数字经济增加值是多少？": ["数字经济增加值", "数字经济核心产业增加值"],
        "中国江西琅轩物联网智慧产业园项目占地多少亩？": [
            "琅轩物联网智慧产业园项目占地",
            "琅轩物联网智慧产业园项目用地",
            "物联网智慧产业园占地",
        ],
        "江西科视光学科技有限公司2023年营业收入是多少？": [
            "科视光学营业收入",
            "科视光学科技有限公司营业收入",
            "科视光学年营收",
        ],
        "南昌经开区2023年工业用电量是多少？": ["南昌经开区工业用电量", "经开区工业用电量", "经开区2023年用电"],
        "江西九二盐业有限责任公司有多少名员工？": ["名员工", "员工人数", "员工总数"],
        "南昌市2021年度林长制工作考核第一名是哪个县区？": ["2021年度林长制工作考核", "2021年度林长制考核"],
        "“十四五”期间南昌农村公路路面技术状况指数要达到多少？": [
            "路面技术状况指数达",
            "路面技术状况指数(PQI)",
            "路面技术状况指数不低于",
        ],
        "江西凯博房地产开发有限公司中航九方商业综合体建成后年营业额多少？": ["年营业额", "中航九方商业综合体年"],
        "中国云厨(南昌)全域产业园占地多少亩？": ["云厨(南昌)全域产业园占地", "云厨产业园占地", "超级工厂占地"],
    }
)
UNANS_PROBE_DOC.update(
    {
        "赣州富尔特电子的高端钕铁硼生产线项目总投资是多少？": "002_ce6db33a5f8ed3b8.txt",
        "山东凯马汽车赣州分公司去年卖了多少辆新能源商用车？": "002_ce6db33a5f8ed3b8.txt",
        "赣锋循环科技年产2万吨电池级碳酸锂项目总投资多少？": "004_50c721a1e63a8171.txt",
        "比亚迪常州基地年产能是多少辆？": "004_50c721a1e63a8171.txt",
        "江西凯博房地产开发有限公司中航九方商业综合体建成后年营业额多少？": "003_6ca689ba26ff1bad.txt",
    }
)
# end of fresh-dev probes

errors, warnings = [], []


def err(qid, msg):
    errors.append(f"{qid}: {msg}")


def warn(qid, msg):
    warnings.append(f"{qid}: {msg}")


def squash(s):
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s)).lower()


def cjk(ch):
    return "\u4e00" <= ch <= "\u9fff"


def cjk_3grams(s):
    return {s[i : i + 3] for i in range(len(s) - 2) if all(cjk(c) for c in s[i : i + 3])}


def find_seeds():
    for d in SEEDS_CANDIDATES:
        if os.path.isdir(d) and any(f.endswith(".txt") for f in os.listdir(d)):
            return d
    sys.exit("seed directory not found")


def main():
    seeds = find_seeds()
    docs = {}
    for fn in sorted(os.listdir(seeds)):
        if fn.endswith(".txt"):
            with open(os.path.join(seeds, fn), "rb") as fh:
                docs[fn] = fh.read().decode("utf-8")
    all_text = "\n".join(docs.values())

    items = []
    with open(QA, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                err(f"line{n}", "empty line")
                continue
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError as e:
                err(f"line{n}", f"JSON error {e}")

    type_counts, doc_counts = Counter(), Counter()
    seen_q = set()
    first_id, id_prefix = 1, "q"
    # questions of the main file, so that another file (e.g. the independent
    # test set) does not repeat one of them verbatim
    other_q = set()
    main_qa = os.path.join(HERE, "qa.jsonl")
    if os.path.abspath(QA) != os.path.abspath(main_qa) and os.path.exists(main_qa):
        with open(main_qa, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    try:
                        other_q.add(json.loads(line).get("question", ""))
                    except json.JSONDecodeError:
                        pass
    for idx, it in enumerate(items, 1):
        qid = it.get("id", f"#{idx}")
        if list(it.keys()) not in (KEYS, KEYS_WITH_ORIGIN):
            err(qid, f"keys {list(it.keys())}")
        # ids must be consecutive with the file's own prefix (q001.. for qa.jsonl,
        # h001.. for holdout.jsonl; other files may start later)
        m_id = re.fullmatch(r"([a-z])(\d{3,})", str(qid))
        if not m_id or (idx > 1 and m_id.group(1) != id_prefix):
            err(qid, "malformed id")
        else:
            if idx == 1:
                id_prefix, first_id = m_id.group(1), int(m_id.group(2))
            expected = f"{id_prefix}{first_id + idx - 1:03d}"
            if qid != expected:
                err(qid, f"id out of order, expected {expected}")
        t = it.get("type")
        if t not in TYPES:
            err(qid, f"bad type {t}")
        type_counts[t] += 1
        q, a = it.get("question", ""), it.get("answer", "")
        if not q or q in seen_q:
            err(qid, "empty or duplicate question")
        if q in other_q:
            err(qid, "question duplicates one in eval/qa.jsonl")
        seen_q.add(q)
        if not isinstance(it.get("answer_aliases"), list) or not isinstance(it.get("answer_parts"), list):
            err(qid, "answer_aliases / answer_parts must be lists")
        doc, ev = it.get("doc"), it.get("evidence")

        if t == "unanswerable":
            if doc is not None or ev is not None or a != "":
                err(qid, "unanswerable must have doc=null, evidence=null, answer=''")
            probes = UNANS_PROBES.get(q)
            if probes is None:
                warn(qid, "no absence probes registered for this unanswerable question")
            else:
                scope = docs[UNANS_PROBE_DOC[q]] if q in UNANS_PROBE_DOC else all_text
                for p in probes:
                    if p in scope:
                        err(qid, f"probe term {p!r} occurs in the seeds -> may be answerable")
            continue

        doc_list = doc if isinstance(doc, list) else [doc]
        for d in doc_list:
            if d not in docs:
                err(qid, f"unknown doc {d}")
        if any(d not in docs for d in doc_list):
            continue
        for d in doc_list:
            doc_counts[d] += 1

        # evidence
        if t == "multi-doc":
            if not (isinstance(doc, list) and isinstance(ev, list) and len(doc) == len(ev) >= 2):
                err(qid, "multi-doc needs doc list and evidence list of equal length >= 2")
                continue
            pairs = list(zip(doc, ev, strict=True))
            if len(it["answer_parts"]) < 2:
                err(qid, "multi-doc needs answer_parts")
        else:
            if isinstance(doc, list):
                err(qid, "only multi-doc items may list several docs")
                continue
            evs = ev if isinstance(ev, list) else [ev]
            pairs = [(doc, e) for e in evs]
        for d, e in pairs:
            if not isinstance(e, str) or not e:
                err(qid, "empty evidence")
                continue
            if e not in docs[d]:
                err(qid, f"evidence not found in {d}: {e!r}")
            if "\n" in e or "\r" in e:
                err(qid, "evidence spans a newline")
            if not 8 <= len(e) <= 80:
                err(qid, f"evidence length {len(e)} outside 8-80: {e!r}")
            if re.search(r"</?[a-zA-Z][^>]*>", e):
                err(qid, f"evidence contains HTML tag: {e!r}")
            if any(g in e for g in GARBLED):
                err(qid, "evidence taken from the garbled repeated paragraph")
        ev_all = [e for _, e in pairs if isinstance(e, str)]
        doc_text = "\n".join(docs[d] for d in doc_list)

        # answer presence
        def present(s, doc_text=doc_text, ev_all=ev_all):
            if s in doc_text:
                return True
            # scoring normalises (NFKC, whitespace removed), so "1121亩" matches
            # the table's "1121 亩"
            if squash(s) and squash(s) in squash(doc_text):
                return True
            m = re.fullmatch(r"([0-9.]+)万元", s)
            if m and "投资金额 (万元)" in doc_text:
                num = m.group(1)
                return any(re.search(r"(?<![0-9.])" + re.escape(num) + r"(?![0-9.])", e) for e in ev_all)
            return False

        if t in ("summary", "multi-doc", "list"):
            parts = it["answer_parts"]
            if t == "summary" and not 2 <= len(parts) <= 4:
                err(qid, "summary needs 2-4 answer_parts")
            if t == "list" and len(parts) < 2:
                err(qid, "list needs answer_parts")
            for p in parts:
                if not present(p):
                    err(qid, f"answer part not in doc: {p!r}")
            if t == "summary":
                for p in parts:
                    if not any(squash(p) in squash(e) for e in ev_all):
                        warn(qid, f"summary part not in any evidence string: {p!r}")
        else:
            if not a:
                err(qid, "empty answer")
            elif not present(a):
                err(qid, f"answer not in doc: {a!r}")
            elif not any(squash(a) in squash(e) for e in ev_all) and not (re.fullmatch(r"[0-9.]+万元", a)):
                warn(qid, f"answer not inside evidence: {a!r}")
            if len(a) > 20:
                warn(qid, f"long answer ({len(a)} chars)")
        if t == "list":
            joined = "、".join(it["answer_parts"])
            if joined != a:
                warn(qid, "list answer differs from '、'.join(answer_parts)")

        # paraphrase overlap
        if t == "paraphrase":
            shared = set()
            for e in ev_all:
                shared |= cjk_3grams(q) & cjk_3grams(e)
            shared -= TRIVIAL_3GRAMS
            if shared:
                err(qid, f"paraphrase shares 3-char CJK substrings with evidence: {sorted(shared)}")

    if id_prefix == "q":  # size floors of the main QA set; the holdout set is smaller by design
        for t, m in MINIMA.items():
            if type_counts[t] < m:
                err("TOTAL", f"type {t}: {type_counts[t]} < {m}")
        for d in docs:
            if doc_counts[d] < 12:
                err("TOTAL", f"doc {d}: {doc_counts[d]} < 12 items")
        if len(items) < 120:
            err("TOTAL", f"only {len(items)} items")

    print(f"items: {len(items)}")
    print("per type:")
    for t in sorted(type_counts):
        print(f"  {t:13s} {type_counts[t]}")
    print("per doc (multi-doc items count for each of their docs; unanswerable excluded):")
    for d in sorted(docs):
        print(f"  {d} {doc_counts[d]}")
    for w in warnings:
        print("WARN ", w)
    for e in errors:
        print("ERROR", e)
    print("OK" if not errors else f"{len(errors)} error(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
