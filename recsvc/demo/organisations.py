"""Synthetic organisations (zh/en): enterprises, research groups, university teams.

Everything here is invented. Enterprise names are built from a region, a two-syllable
brand and an industry word (江苏绿源环保科技有限公司 / Jiangsu Lvyuan Environmental
Technology Co., Ltd.); research groups and teams belong to institutes and universities
that work in their field (:func:`fitting`).
"""

from __future__ import annotations

#: Brand syllables (zh, pinyin); two make a brand such as 绿源 / Lvyuan.
BRAND_A: tuple[tuple[str, str], ...] = tuple(
    (z, e)
    for z, e in (
        ("绿", "Lv"),
        ("华", "Hua"),
        ("中", "Zhong"),
        ("恒", "Heng"),
        ("瑞", "Rui"),
        ("新", "Xin"),
        ("天", "Tian"),
        ("金", "Jin"),
        ("博", "Bo"),
        ("康", "Kang"),
        ("海", "Hai"),
        ("科", "Ke"),
        ("安", "An"),
        ("泰", "Tai"),
        ("嘉", "Jia"),
        ("鼎", "Ding"),
        ("宏", "Hong"),
        ("明", "Ming"),
        ("智", "Zhi"),
        ("德", "De"),
        ("正", "Zheng"),
        ("联", "Lian"),
        ("远", "Yuan"),
        ("创", "Chuang"),
        ("东", "Dong"),
    )
)
BRAND_B: tuple[tuple[str, str], ...] = tuple(
    (z, e)
    for z, e in (
        ("源", "yuan"),
        ("信", "xin"),
        ("达", "da"),
        ("盛", "sheng"),
        ("泽", "ze"),
        ("锐", "rui"),
        ("宇", "yu"),
        ("辰", "chen"),
        ("晟", "sheng"),
        ("诺", "nuo"),
        ("能", "neng"),
        ("拓", "tuo"),
        ("祥", "xiang"),
        ("禾", "he"),
        ("邦", "bang"),
        ("润", "run"),
        ("峰", "feng"),
        ("航", "hang"),
        ("清", "qing"),
        ("凯", "kai"),
        ("益", "yi"),
        ("通", "tong"),
        ("维", "wei"),
        ("兴", "xing"),
        ("瀚", "han"),
    )
)

#: Industry words of enterprise names per field code (zh, en).
INDUSTRY_WORDS: dict[str, tuple[str, str]] = {
    "swine_vaccines": ("生物科技", "Biotechnology"),
    "human_vaccines": ("生物制品", "Biological Products"),
    "sewage_treatment": ("环保科技", "Environmental Technology"),
    "lithium_batteries": ("新能源科技", "New Energy Technology"),
    "semiconductors": ("半导体", "Semiconductor"),
    "new_materials": ("新材料", "New Materials"),
    "tcm": ("药业", "Pharmaceutical"),
    "tobacco": ("烟草工业", "Tobacco Industry"),
    "photovoltaics": ("光伏科技", "Photovoltaic Technology"),
    "hydrogen_energy": ("氢能科技", "Hydrogen Technology"),
    "robotics": ("机器人", "Robotics"),
    "aviation_materials": ("航空材料", "Aviation Materials"),
    "crop_breeding": ("种业", "Seed Industry"),
    "food_safety": ("检测技术", "Testing Technology"),
    "medical_devices": ("医疗器械", "Medical Devices"),
    "ai_vision": ("智能科技", "Intelligent Technology"),
    "telecom_5g": ("通信技术", "Communication Technology"),
    "rail_transit": ("轨道交通装备", "Rail Transit Equipment"),
    "coal_chemistry": ("煤化工", "Coal Chemical"),
    "biopharma": ("生物医药", "Biopharmaceutical"),
    "env_monitoring": ("环境监测", "Environmental Monitoring"),
    "steel_metallurgy": ("钢铁", "Iron and Steel"),
    "textiles": ("纺织", "Textile"),
    "new_energy_vehicles": ("新能源汽车", "New Energy Vehicle"),
    "solid_waste": ("再生资源", "Renewable Resources"),
    "petrochemicals": ("石化", "Petrochemical"),
    "animal_nutrition": ("饲料", "Feed"),
    "building_materials": ("建材", "Building Materials"),
    "marine_engineering": ("海洋工程", "Marine Engineering"),
    "precision_instruments": ("仪器", "Instruments"),
    "fine_chemicals": ("精细化工", "Fine Chemicals"),
    "agri_machinery": ("农业装备", "Agricultural Equipment"),
    "synthetic_biology": ("合成生物", "Synthetic Biology"),
    "drones": ("无人机", "UAV"),
    "smart_grid": ("电力科技", "Power Technology"),
}

#: In-house institutes of the academy (zh, en, codes of the fields they work in); a
#: research group studies a field of its institute.
ACADEMY_INSTITUTES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "中国科学院过程工程研究所",
        "Institute of Process Engineering, CAS",
        (
            "coal_chemistry",
            "solid_waste",
            "petrochemicals",
            "fine_chemicals",
            "steel_metallurgy",
            "building_materials",
            "lithium_batteries",
        ),
    ),
    (
        "中国科学院化学研究所",
        "Institute of Chemistry, CAS",
        ("new_materials", "fine_chemicals", "textiles", "photovoltaics", "lithium_batteries"),
    ),
    (
        "中国科学院微生物研究所",
        "Institute of Microbiology, CAS",
        ("swine_vaccines", "human_vaccines", "synthetic_biology", "animal_nutrition", "biopharma"),
    ),
    (
        "中国科学院生态环境研究中心",
        "Research Center for Eco-Environmental Sciences, CAS",
        ("sewage_treatment", "env_monitoring", "solid_waste", "food_safety"),
    ),
    (
        "中国科学院半导体研究所",
        "Institute of Semiconductors, CAS",
        ("semiconductors", "photovoltaics", "telecom_5g"),
    ),
    (
        "中国科学院物理研究所",
        "Institute of Physics, CAS",
        ("lithium_batteries", "semiconductors", "new_materials", "precision_instruments"),
    ),
    (
        "中国科学院自动化研究所",
        "Institute of Automation, CAS",
        ("ai_vision", "robotics", "drones"),
    ),
    (
        "中国科学院遗传与发育生物学研究所",
        "Institute of Genetics and Developmental Biology, CAS",
        ("crop_breeding",),
    ),
    (
        "中国科学院理化技术研究所",
        "Technical Institute of Physics and Chemistry, CAS",
        ("new_materials", "precision_instruments", "hydrogen_energy", "medical_devices"),
    ),
    (
        "中国科学院电工研究所",
        "Institute of Electrical Engineering, CAS",
        ("smart_grid", "new_energy_vehicles", "photovoltaics", "hydrogen_energy", "rail_transit"),
    ),
    (
        "中国科学院大连化学物理研究所",
        "Dalian Institute of Chemical Physics, CAS",
        (
            "hydrogen_energy",
            "coal_chemistry",
            "petrochemicals",
            "lithium_batteries",
            "fine_chemicals",
            "tobacco",
            "tcm",
            "precision_instruments",
        ),
    ),
    (
        "中国科学院金属研究所",
        "Institute of Metal Research, CAS",
        ("steel_metallurgy", "aviation_materials", "new_materials", "medical_devices"),
    ),
    (
        "中国科学院宁波材料技术与工程研究所",
        "Ningbo Institute of Materials Technology, CAS",
        ("new_materials", "lithium_batteries", "new_energy_vehicles", "textiles"),
    ),
    (
        "中国科学院上海药物研究所",
        "Shanghai Institute of Materia Medica, CAS",
        ("tcm", "biopharma"),
    ),
    (
        "中国科学院沈阳自动化研究所",
        "Shenyang Institute of Automation, CAS",
        ("robotics", "marine_engineering", "drones", "agri_machinery"),
    ),
    (
        "中国科学院海洋研究所",
        "Institute of Oceanology, CAS",
        ("marine_engineering", "animal_nutrition"),
    ),
    (
        "中国科学院微电子研究所",
        "Institute of Microelectronics, CAS",
        ("semiconductors", "telecom_5g"),
    ),
    (
        "中国科学院长春光学精密机械与物理研究所",
        "Changchun Institute of Optics, Fine Mechanics and Physics, CAS",
        ("precision_instruments", "drones"),
    ),
    (
        "中国科学院安徽光学精密机械研究所",
        "Anhui Institute of Optics and Fine Mechanics, CAS",
        ("env_monitoring", "precision_instruments"),
    ),
    (
        "中国科学院山西煤炭化学研究所",
        "Institute of Coal Chemistry, CAS",
        ("coal_chemistry", "new_materials"),
    ),
    (
        "中国科学院天津工业生物技术研究所",
        "Tianjin Institute of Industrial Biotechnology, CAS",
        ("synthetic_biology", "animal_nutrition"),
    ),
    (
        "中国科学院深圳先进技术研究院",
        "Shenzhen Institutes of Advanced Technology, CAS",
        ("medical_devices", "robotics", "ai_vision", "synthetic_biology"),
    ),
    (
        "中国科学院武汉病毒研究所",
        "Wuhan Institute of Virology, CAS",
        ("swine_vaccines", "human_vaccines"),
    ),
    (
        "中国科学院亚热带农业生态研究所",
        "Institute of Subtropical Agriculture, CAS",
        ("animal_nutrition", "crop_breeding"),
    ),
    (
        "中国科学院力学研究所",
        "Institute of Mechanics, CAS",
        ("rail_transit", "aviation_materials", "marine_engineering", "building_materials"),
    ),
)

#: Universities (zh, en, codes of the fields their research teams work in).
UNIVERSITIES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "清华大学",
        "Tsinghua University",
        (
            "semiconductors",
            "ai_vision",
            "new_materials",
            "smart_grid",
            "hydrogen_energy",
            "lithium_batteries",
            "env_monitoring",
            "sewage_treatment",
            "medical_devices",
            "precision_instruments",
            "new_energy_vehicles",
        ),
    ),
    (
        "北京化工大学",
        "Beijing University of Chemical Technology",
        ("petrochemicals", "fine_chemicals", "new_materials", "synthetic_biology"),
    ),
    (
        "中国农业大学",
        "China Agricultural University",
        ("crop_breeding", "animal_nutrition", "swine_vaccines", "food_safety", "agri_machinery"),
    ),
    (
        "北京理工大学",
        "Beijing Institute of Technology",
        ("new_energy_vehicles", "drones", "robotics", "lithium_batteries"),
    ),
    (
        "华东理工大学",
        "East China University of Science and Technology",
        ("petrochemicals", "fine_chemicals", "coal_chemistry", "biopharma", "synthetic_biology"),
    ),
    (
        "南京工业大学",
        "Nanjing Tech University",
        ("fine_chemicals", "synthetic_biology", "building_materials", "new_materials"),
    ),
    (
        "天津大学",
        "Tianjin University",
        ("petrochemicals", "marine_engineering", "precision_instruments", "synthetic_biology"),
    ),
    (
        "华中科技大学",
        "Huazhong University of Science and Technology",
        ("robotics", "smart_grid", "medical_devices", "telecom_5g", "lithium_batteries"),
    ),
    (
        "四川大学",
        "Sichuan University",
        ("new_materials", "medical_devices", "biopharma", "textiles"),
    ),
    (
        "西北农林科技大学",
        "Northwest A&F University",
        ("crop_breeding", "animal_nutrition", "swine_vaccines", "agri_machinery", "food_safety"),
    ),
    ("北京交通大学", "Beijing Jiaotong University", ("rail_transit", "smart_grid")),
    (
        "哈尔滨工业大学",
        "Harbin Institute of Technology",
        ("robotics", "aviation_materials", "new_materials", "sewage_treatment"),
    ),
    (
        "中国矿业大学",
        "China University of Mining and Technology",
        ("coal_chemistry", "solid_waste", "building_materials"),
    ),
    ("北京中医药大学", "Beijing University of Chinese Medicine", ("tcm",)),
    ("东华大学", "Donghua University", ("textiles", "new_materials")),
    ("河北工业大学", "Hebei University of Technology", ("smart_grid", "building_materials")),
    ("北京航空航天大学", "Beihang University", ("aviation_materials", "drones", "robotics")),
    (
        "北京邮电大学",
        "Beijing University of Posts and Telecommunications",
        ("telecom_5g", "ai_vision"),
    ),
    ("中国海洋大学", "Ocean University of China", ("marine_engineering", "animal_nutrition")),
    (
        "华北电力大学",
        "North China Electric Power University",
        ("smart_grid", "photovoltaics", "hydrogen_energy"),
    ),
    (
        "北京科技大学",
        "University of Science and Technology Beijing",
        ("steel_metallurgy", "new_materials", "solid_waste"),
    ),
    ("中国石油大学（北京）", "China University of Petroleum, Beijing", ("petrochemicals",)),
    ("郑州轻工业大学", "Zhengzhou University of Light Industry", ("tobacco", "food_safety")),
    ("中国药科大学", "China Pharmaceutical University", ("biopharma", "tcm")),
    (
        "武汉理工大学",
        "Wuhan University of Technology",
        ("building_materials", "new_energy_vehicles"),
    ),
    ("南京大学", "Nanjing University", ("env_monitoring", "sewage_treatment", "solid_waste")),
    (
        "北京协和医学院",
        "Peking Union Medical College",
        ("human_vaccines", "biopharma", "medical_devices"),
    ),
)


def fitting(orgs: tuple[tuple[str, str, tuple[str, ...]], ...], code: str) -> tuple[int, ...]:
    """Indices of the organisations in ``orgs`` that work in field ``code``."""
    return tuple(i for i, org in enumerate(orgs) if code in org[2])


def title_case(name: str) -> str:
    """A field name as it stands in an organisation's name ("Veterinary Vaccines")."""
    small = {"and", "of", "for", "in"}
    return " ".join(w if w in small else w[:1].upper() + w[1:] for w in name.split())


OTHER_ORGS: tuple[tuple[str, str], ...] = (
    ("科学技术局", "Science and Technology Bureau"),
    ("生产力促进中心", "Productivity Promotion Center"),
    ("知识产权服务中心", "Intellectual Property Service Center"),
    ("高新区管理委员会", "High-tech Zone Administrative Committee"),
    ("科技企业孵化器", "Technology Business Incubator"),
)
