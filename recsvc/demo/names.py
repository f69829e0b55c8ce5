"""Synthetic names: places, parks, enterprise types, staff and contact persons
(organisations are :mod:`recsvc.demo.organisations`).

Everything here is invented. Contact persons (personal data) are built from common surnames
and given-name characters and appear only in ``contacts.csv``.
"""

from __future__ import annotations

#: (zh, en, postcode prefix) of provinces and municipalities.
REGIONS: tuple[tuple[str, str, str], ...] = (
    ("北京", "Beijing", "10"),
    ("上海", "Shanghai", "20"),
    ("天津", "Tianjin", "30"),
    ("重庆", "Chongqing", "40"),
    ("江苏", "Jiangsu", "21"),
    ("浙江", "Zhejiang", "31"),
    ("广东", "Guangdong", "51"),
    ("山东", "Shandong", "25"),
    ("河北", "Hebei", "05"),
    ("河南", "Henan", "45"),
    ("湖北", "Hubei", "43"),
    ("湖南", "Hunan", "41"),
    ("四川", "Sichuan", "61"),
    ("陕西", "Shaanxi", "71"),
    ("安徽", "Anhui", "23"),
    ("福建", "Fujian", "35"),
    ("辽宁", "Liaoning", "11"),
    ("吉林", "Jilin", "13"),
    ("黑龙江", "Heilongjiang", "15"),
    ("山西", "Shanxi", "03"),
    ("内蒙古", "Inner Mongolia", "01"),
    ("江西", "Jiangxi", "33"),
    ("云南", "Yunnan", "65"),
    ("贵州", "Guizhou", "55"),
    ("广西", "Guangxi", "53"),
    ("宁夏", "Ningxia", "75"),
    ("新疆", "Xinjiang", "83"),
)
#: Relative weights of REGIONS (Beijing dominates a Beijing station's clientele).
REGION_WEIGHTS: tuple[float, ...] = (
    30,
    6,
    5,
    2,
    8,
    6,
    6,
    6,
    5,
    3,
    3,
    2,
    3,
    2,
    2,
    2,
    2,
    1,
    1,
    2,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
)

PARKS: tuple[str, ...] = (
    "中关村科技园区",
    "中关村科技园区海淀园",
    "中关村科技园区昌平园",
    "北京经济技术开发区",
    "张江高科技园区",
    "苏州工业园区",
    "天津滨海高新区",
    "武汉东湖新技术开发区",
    "深圳高新技术产业园区",
    "杭州高新技术产业开发区",
    "合肥高新技术产业开发区",
    "成都高新技术产业开发区",
    "西安高新技术产业开发区",
    "济南高新技术产业开发区",
    "廊坊经济技术开发区",
)

ENTERPRISE_TYPES: tuple[str, ...] = (
    "民营企业",
    "国有企业",
    "高新技术企业",
    "中外合资企业",
    "外商独资企业",
    "股份有限公司",
)
ENTERPRISE_TYPE_WEIGHTS: tuple[float, ...] = (40, 15, 25, 8, 4, 8)

#: Centre staff (account managers and searchers); staff, not clients' personal data.
STAFF: tuple[str, ...] = (
    "王晓峰",
    "李红梅",
    "张建华",
    "刘敏",
    "陈静",
    "杨立新",
    "赵雪",
    "黄志强",
    "周丽",
    "吴海燕",
    "徐文博",
    "孙悦",
)
SEARCHERS: tuple[str, ...] = (*STAFF[:8], "郭宁", "马骏", "林倩", "何磊")

SURNAMES: tuple[tuple[str, str], ...] = (
    ("王", "wang"),
    ("李", "li"),
    ("张", "zhang"),
    ("刘", "liu"),
    ("陈", "chen"),
    ("杨", "yang"),
    ("赵", "zhao"),
    ("黄", "huang"),
    ("周", "zhou"),
    ("吴", "wu"),
    ("徐", "xu"),
    ("孙", "sun"),
    ("胡", "hu"),
    ("朱", "zhu"),
    ("高", "gao"),
    ("林", "lin"),
    ("何", "he"),
    ("郭", "guo"),
    ("马", "ma"),
    ("罗", "luo"),
    ("梁", "liang"),
    ("宋", "song"),
    ("郑", "zheng"),
    ("谢", "xie"),
    ("韩", "han"),
)
GIVEN: tuple[tuple[str, str], ...] = (
    ("伟", "wei"),
    ("芳", "fang"),
    ("娜", "na"),
    ("秀", "xiu"),
    ("敏", "min"),
    ("静", "jing"),
    ("强", "qiang"),
    ("磊", "lei"),
    ("军", "jun"),
    ("洋", "yang"),
    ("勇", "yong"),
    ("艳", "yan"),
    ("杰", "jie"),
    ("涛", "tao"),
    ("明", "ming"),
    ("超", "chao"),
    ("霞", "xia"),
    ("平", "ping"),
    ("刚", "gang"),
    ("桂", "gui"),
    ("晨", "chen"),
    ("宇", "yu"),
    ("欣", "xin"),
    ("浩", "hao"),
    ("婷", "ting"),
)
TITLES: tuple[str, ...] = (
    "研发经理",
    "技术总监",
    "研究员",
    "副研究员",
    "工程师",
    "教授",
    "项目主管",
)
MAIL_DOMAINS: tuple[str, ...] = ("163.com", "126.com", "qq.com", "sina.com", "example.cn")

HONOURS: tuple[str, ...] = (
    "高新技术企业",
    "专精特新“小巨人”企业",
    "省级企业技术中心",
    "国家科技进步二等奖",
    "省科技进步一等奖",
    "中国专利优秀奖",
    "瞪羚企业",
    "国家级博士后科研工作站",
)
