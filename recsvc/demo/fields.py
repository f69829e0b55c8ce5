"""Research fields of the demo world and their bilingual vocabularies.

Each field carries aligned Chinese/English term lists that the title composer
(:mod:`recsvc.demo.titles`) combines with several sentence patterns:

- ``obj``: objects of study (a vaccine, a membrane reactor, a cathode material);
- ``proc``: what is done to them (a process, a method, an evaluation); a leading
  ``*`` marks process/equipment development, which drives literature-and-patent
  analysis purchases (docs/demo-data.md, rule P7);
- ``tech``: enabling techniques ("based on …");
- ``app``: applications;
- ``prop``: target properties (adjectives).

Terms are written ``中文=English`` and separated by ``|``. ``growth`` is the field's
yearly log growth of commission volume (see :mod:`recsvc.demo.rules`); a non-zero
``since`` year delays the growth (fields that take off after 2016).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    """One research field and its vocabulary (terms as ``(zh, en)`` pairs)."""

    code: str
    name_zh: str
    name_en: str
    subject_zh: str
    growth: float
    since: int
    weight: float
    academic: float
    obj: tuple[tuple[str, str], ...]
    proc: tuple[tuple[str, str], ...]
    tech: tuple[tuple[str, str], ...]
    app: tuple[tuple[str, str], ...]
    prop: tuple[tuple[str, str], ...]


def _terms(spec: str) -> tuple[tuple[str, str], ...]:
    out = []
    for item in spec.split("|"):
        zh, en = item.split("=")
        out.append((zh.strip(), en.strip()))
    return tuple(out)


def _f(
    code: str,
    name_zh: str,
    name_en: str,
    subject_zh: str,
    *,
    growth: float = 0.0,
    since: int = 0,
    weight: float = 1.0,
    academic: float = 0.5,
    obj: str,
    proc: str,
    tech: str,
    app: str,
    prop: str,
) -> Field:
    return Field(
        code,
        name_zh,
        name_en,
        subject_zh,
        growth,
        since,
        weight,
        academic,
        _terms(obj),
        _terms(proc),
        _terms(tech),
        _terms(app),
        _terms(prop),
    )


FIELDS: tuple[Field, ...] = (
    _f(
        "swine_vaccines",
        "兽用疫苗",
        "Veterinary vaccines",
        "预防兽医学",
        weight=1.4,
        academic=0.3,
        obj="猪瘟病毒=classical swine fever virus|非洲猪瘟病毒=African swine fever virus"
        "|猪瘟活疫苗=live classical swine fever vaccine|非洲猪瘟亚单位疫苗=African swine fever "
        "subunit vaccine|猪伪狂犬病病毒=porcine pseudorabies virus|猪传染性胃肠炎病毒="
        "porcine transmissible gastroenteritis virus|猪乙型脑炎病毒=porcine Japanese "
        "encephalitis virus|猪圆环病毒2型=porcine circovirus type 2",
        proc="检测方法=detection method|疫苗研制=vaccine development|免疫效果评价=immune "
        "efficacy evaluation|*细胞悬浮培养工艺=suspension cell culture process|快速诊断试剂盒"
        "=rapid diagnostic kit|*灭活工艺=inactivation process",
        tech="反向遗传技术=reverse genetics|荧光定量PCR=real-time quantitative PCR|基因缺失"
        "=gene deletion|病毒样颗粒=virus-like particles",
        app="规模化猪场=large-scale pig farms|种猪净化=breeding herd purification|生猪养殖"
        "=pig production|疫病防控=epidemic prevention and control",
        prop="高效=highly efficient|多价=multivalent|耐热=thermostable|基因缺失型=gene-deleted",
    ),
    _f(
        "human_vaccines",
        "人用疫苗",
        "Human vaccines",
        "免疫学",
        weight=0.8,
        academic=0.5,
        obj="流感疫苗=influenza vaccine|mRNA疫苗=mRNA vaccine|狂犬病疫苗=rabies vaccine"
        "|肺炎球菌结合疫苗=pneumococcal conjugate vaccine|带状疱疹疫苗=herpes zoster vaccine",
        proc="免疫原性评价=immunogenicity evaluation|*纯化工艺=purification process|稳定性研究"
        "=stability study|*规模化生产工艺=large-scale production process",
        tech="脂质纳米颗粒递送=lipid nanoparticle delivery|佐剂=adjuvant|重组蛋白表达"
        "=recombinant protein expression",
        app="老年人群=elderly populations|儿童免疫=childhood immunization|应急接种=emergency "
        "vaccination",
        prop="广谱=broad-spectrum|长效=long-acting|冻干=freeze-dried",
    ),
    _f(
        "sewage_treatment",
        "污水处理",
        "Sewage treatment",
        "环境工程",
        weight=1.4,
        academic=0.3,
        obj="村镇生活污水=rural domestic sewage|MBR膜生物反应器=MBR membrane bioreactor"
        "|MBBR移动床生物膜反应器=MBBR moving bed biofilm reactor|一体化生物转盘=integrated "
        "rotating biological contactor|污水处理设备=sewage treatment equipment|高氨氮废水"
        "=high-ammonia wastewater|剩余污泥=excess sludge",
        proc="*处理工艺=treatment process|*成套设备=complete equipment|脱氮除磷=nitrogen and "
        "phosphorus removal|*节能运行=energy-saving operation|膜污染控制=membrane fouling "
        "control",
        tech="厌氧氨氧化=anammox|生物膜法=biofilm process|曝气优化控制=aeration optimisation "
        "control|移动互联网=mobile internet",
        app="村镇污水处理=village sewage treatment|工业园区污水处理=industrial park wastewater "
        "treatment|村镇给水=village water supply|水务运营=water utility operation",
        prop="一体化=integrated|低能耗=low-energy|模块化=modular|地埋式=buried",
    ),
    _f(
        "lithium_batteries",
        "锂电池",
        "Lithium batteries",
        "电化学",
        growth=0.14,
        weight=1.2,
        academic=0.4,
        obj="磷酸铁锂正极材料=lithium iron phosphate cathode|高镍三元正极=high-nickel ternary "
        "cathode|硅碳负极=silicon-carbon anode|固态电解质=solid-state electrolyte|锂离子电池隔膜"
        "=lithium-ion battery separator|动力电池包=power battery pack",
        proc="*制备工艺=preparation process|循环性能=cycling performance|热失控防护"
        "=thermal runaway protection|*回收工艺=recycling process|界面改性=interface "
        "modification",
        tech="原子层沉积=atomic layer deposition|喷雾干燥=spray drying|预锂化=prelithiation"
        "|机器学习=machine learning",
        app="电动汽车=electric vehicles|储能电站=energy storage stations|电动两轮车=electric "
        "two-wheelers",
        prop="高能量密度=high-energy-density|长循环=long-cycle|高安全=high-safety|快充=fast-charging",
    ),
    _f(
        "semiconductors",
        "半导体",
        "Semiconductors",
        "微电子学",
        growth=0.10,
        weight=1.0,
        academic=0.5,
        obj="碳化硅功率器件=silicon carbide power device|氮化镓外延片=gallium nitride epitaxial "
        "wafer|光刻胶=photoresist|先进封装基板=advanced packaging substrate|MEMS传感器"
        "=MEMS sensor",
        proc="*刻蚀工艺=etching process|可靠性测试=reliability testing|*外延生长工艺=epitaxial "
        "growth process|缺陷检测=defect inspection",
        tech="化学机械抛光=chemical mechanical polishing|离子注入=ion implantation|晶圆级封装"
        "=wafer-level packaging",
        app="新能源汽车电驱=electric drives of new energy vehicles|5G基站=5G base stations"
        "|消费电子=consumer electronics",
        prop="低缺陷=low-defect|高耐压=high-voltage|国产化=domestically produced",
    ),
    _f(
        "new_materials",
        "新材料",
        "New materials",
        "材料科学",
        growth=0.04,
        weight=1.3,
        academic=0.55,
        obj="石墨烯复合材料=graphene composite|碳纤维增强复合材料=carbon-fibre-reinforced "
        "composite|气凝胶=aerogel|高熵合金=high-entropy alloy|生物可降解塑料=biodegradable "
        "plastic|形状记忆聚合物=shape-memory polymer",
        proc="*制备方法=preparation method|性能表征=performance characterisation|*规模化制备"
        "=scale-up preparation|结构设计=structural design",
        tech="溶胶-凝胶法=sol-gel method|3D打印=3D printing|静电纺丝=electrospinning|分子模拟"
        "=molecular simulation",
        app="建筑保温=building insulation|电子封装=electronic packaging|汽车轻量化=vehicle "
        "lightweighting|包装=packaging",
        prop="高强度=high-strength|耐高温=high-temperature-resistant|轻质=lightweight"
        "|可降解=degradable",
    ),
    _f(
        "tcm",
        "中医药",
        "Traditional Chinese medicine",
        "中药学",
        weight=1.1,
        academic=0.55,
        obj="黄芪多糖=astragalus polysaccharide|丹参酮=tanshinone|中药配方颗粒=TCM dispensing "
        "granules|连翘提取物=forsythia extract|经典名方=classical formula",
        proc="*提取工艺=extraction process|质量标准=quality standards|药效学评价"
        "=pharmacodynamic evaluation|指纹图谱=fingerprint analysis",
        tech="超临界萃取=supercritical extraction|网络药理学=network pharmacology|大孔树脂纯化"
        "=macroporous resin purification",
        app="心脑血管疾病=cardiovascular diseases|免疫调节=immune regulation|保健食品=health foods",
        prop="标准化=standardised|高纯度=high-purity|缓释=sustained-release",
    ),
    _f(
        "tobacco",
        "烟草",
        "Tobacco",
        "烟草科学",
        growth=-0.05,
        weight=0.8,
        academic=0.15,
        obj="卷烟过滤嘴添加剂=cigarette filter additive|卷烟烟丝添加剂=cut tobacco additive"
        "|再造烟叶=reconstituted tobacco|加热不燃烧卷烟=heat-not-burn cigarette|烟用香精"
        "=tobacco flavour",
        proc="成分分析=composition analysis|*加工工艺=processing technology|减害降焦=harm and "
        "tar reduction|感官评价=sensory evaluation",
        tech="造纸法=papermaking method|微胶囊=microencapsulation|气相色谱-质谱=gas "
        "chromatography-mass spectrometry",
        app="中式卷烟=Chinese-style cigarettes|细支卷烟=slim cigarettes|新型烟草制品=novel "
        "tobacco products",
        prop="低焦油=low-tar|天然=natural|缓释=slow-release",
    ),
    _f(
        "photovoltaics",
        "光伏",
        "Photovoltaics",
        "新能源",
        growth=0.08,
        weight=1.0,
        academic=0.45,
        obj="钙钛矿太阳能电池=perovskite solar cell|异质结电池=heterojunction cell|TOPCon电池"
        "=TOPCon cell|光伏组件=photovoltaic module|光伏逆变器=photovoltaic inverter",
        proc="效率提升=efficiency improvement|*制造工艺=manufacturing process|衰减机理=degradation "
        "mechanism|*清洗设备=cleaning equipment",
        tech="钝化接触=passivated contact|激光掺杂=laser doping|最大功率点跟踪=maximum power "
        "point tracking",
        app="分布式光伏电站=distributed PV plants|农光互补=agrivoltaics|建筑光伏一体化"
        "=building-integrated photovoltaics",
        prop="高效=high-efficiency|柔性=flexible|双面=bifacial",
    ),
    _f(
        "hydrogen_energy",
        "氢能",
        "Hydrogen energy",
        "能源化工",
        growth=0.30,
        since=2016,
        weight=0.6,
        academic=0.5,
        obj="质子交换膜燃料电池=proton exchange membrane fuel cell|碱性电解槽=alkaline "
        "electrolyser|储氢合金=hydrogen storage alloy|加氢站=hydrogen refuelling station"
        "|PEM电解水制氢=PEM water electrolysis",
        proc="催化剂开发=catalyst development|*系统集成=system integration|耐久性评价=durability "
        "evaluation|*储运装备=storage and transport equipment",
        tech="低铂催化=low-platinum catalysis|膜电极=membrane electrode assembly|高压气态储氢"
        "=high-pressure gaseous storage",
        app="氢燃料电池汽车=hydrogen fuel-cell vehicles|绿氢化工=green-hydrogen chemicals"
        "|分布式发电=distributed power generation",
        prop="低成本=low-cost|高功率密度=high-power-density|长寿命=long-life",
    ),
    _f(
        "robotics",
        "机器人",
        "Robotics",
        "自动化",
        growth=0.12,
        weight=0.9,
        academic=0.5,
        obj="工业机器人=industrial robot|协作机器人=collaborative robot|巡检机器人=inspection "
        "robot|手术机器人=surgical robot|外骨骼=exoskeleton",
        proc="运动控制=motion control|路径规划=path planning|*精密减速器=precision reducer"
        "|力反馈=force feedback",
        tech="视觉伺服=visual servoing|强化学习=reinforcement learning|SLAM定位=SLAM localisation",
        app="汽车焊装=automotive welding|变电站巡检=substation inspection|康复医疗=rehabilitation",
        prop="轻量化=lightweight|高精度=high-precision|智能=intelligent",
    ),
    _f(
        "aviation_materials",
        "航空材料",
        "Aviation materials",
        "航空宇航科学",
        weight=0.7,
        academic=0.55,
        obj="钛合金构件=titanium alloy component|高温合金叶片=superalloy blade|树脂基复合材料"
        "=resin matrix composite|热障涂层=thermal barrier coating|航空铝锂合金=aerospace "
        "aluminium-lithium alloy",
        proc="*成形工艺=forming process|疲劳性能=fatigue performance|无损检测=non-destructive "
        "testing|*热处理工艺=heat treatment process",
        tech="增材制造=additive manufacturing|自动铺丝=automated fibre placement|等离子喷涂"
        "=plasma spraying",
        app="航空发动机=aero-engines|大型客机=large airliners|无人机=unmanned aerial vehicles",
        prop="耐高温=high-temperature|高韧性=high-toughness|轻质=lightweight",
    ),
    _f(
        "crop_breeding",
        "作物育种",
        "Crop breeding",
        "作物遗传育种",
        weight=1.0,
        academic=0.6,
        obj="水稻=rice|玉米=maize|小麦=wheat|大豆=soybean|马铃薯=potato",
        proc="新品种选育=new variety breeding|抗病基因挖掘=disease-resistance gene mining"
        "|分子标记辅助选择=marker-assisted selection|*种子加工=seed processing",
        tech="基因编辑=gene editing|全基因组选择=genomic selection|杂种优势利用=heterosis "
        "utilisation",
        app="盐碱地=saline-alkali land|东北春播区=north-eastern spring sowing areas|丘陵山区"
        "=hilly areas",
        prop="高产=high-yield|抗旱=drought-tolerant|优质=high-quality|抗倒伏=lodging-resistant",
    ),
    _f(
        "food_safety",
        "食品安全",
        "Food safety",
        "食品科学",
        weight=1.0,
        academic=0.45,
        obj="农药残留=pesticide residues|兽药残留=veterinary drug residues|食源性致病菌"
        "=foodborne pathogens|真菌毒素=mycotoxins|食品添加剂=food additives",
        proc="快速检测方法=rapid detection method|风险评估=risk assessment|溯源技术"
        "=traceability technology|*检测设备=testing equipment",
        tech="免疫层析=immunochromatography|表面增强拉曼=surface-enhanced Raman|区块链=blockchain",
        app="乳制品=dairy products|生鲜农产品=fresh agricultural products|餐饮服务=catering",
        prop="便携式=portable|高灵敏=highly sensitive|现场=on-site",
    ),
    _f(
        "medical_devices",
        "医疗器械",
        "Medical devices",
        "生物医学工程",
        growth=0.06,
        weight=1.1,
        academic=0.4,
        obj="可降解血管支架=biodegradable vascular stent|人工关节=artificial joint|体外诊断试剂"
        "=in-vitro diagnostic reagent|超声探头=ultrasound probe|血液透析器=haemodialyser",
        proc="生物相容性评价=biocompatibility evaluation|*生产工艺=production process|临床评价"
        "=clinical evaluation|结构优化=structural optimisation",
        tech="化学发光=chemiluminescence|表面涂层=surface coating|有限元分析=finite element "
        "analysis",
        app="心血管介入=cardiovascular intervention|基层医疗=primary care|骨科=orthopaedics",
        prop="可降解=degradable|一次性=disposable|微创=minimally invasive",
    ),
    _f(
        "ai_vision",
        "人工智能与机器视觉",
        "AI and machine vision",
        "计算机科学",
        growth=0.30,
        since=2016,
        weight=0.6,
        academic=0.5,
        obj="工业视觉检测系统=industrial visual inspection system|人脸识别算法=face recognition "
        "algorithm|医学影像辅助诊断=medical image-aided diagnosis|大语言模型=large language "
        "model|智能交通信号控制=intelligent traffic signal control",
        proc="算法优化=algorithm optimisation|缺陷识别=defect recognition|模型压缩=model "
        "compression|*嵌入式部署=embedded deployment",
        tech="深度学习=deep learning|卷积神经网络=convolutional neural networks|迁移学习"
        "=transfer learning|知识图谱=knowledge graphs",
        app="钢板表面检测=steel surface inspection|智慧城市=smart cities|智能制造=intelligent "
        "manufacturing",
        prop="实时=real-time|轻量级=lightweight|高鲁棒性=robust",
    ),
    _f(
        "telecom_5g",
        "5G通信",
        "5G communications",
        "信息与通信工程",
        growth=0.25,
        since=2017,
        weight=0.6,
        academic=0.45,
        obj="5G基站天线=5G base station antenna|毫米波射频前端=millimetre-wave RF front end"
        "|光模块=optical module|小基站=small cell|物联网通信模组=IoT communication module",
        proc="信号处理=signal processing|*结构设计=structural design|能耗优化=energy-consumption "
        "optimisation|测试方法=test method",
        tech="大规模MIMO=massive MIMO|波束赋形=beamforming|网络切片=network slicing",
        app="工业互联网=industrial internet|车联网=internet of vehicles|智慧矿山=smart mines",
        prop="低时延=low-latency|小型化=miniaturised|高集成度=highly integrated",
    ),
    _f(
        "rail_transit",
        "轨道交通",
        "Rail transit",
        "交通运输工程",
        weight=0.8,
        academic=0.4,
        obj="高速列车转向架=high-speed train bogie|地铁牵引变流器=metro traction converter"
        "|无砟轨道=ballastless track|接触网=overhead contact line|列车制动系统=train braking "
        "system",
        proc="振动噪声控制=vibration and noise control|*检修装备=maintenance equipment|故障诊断"
        "=fault diagnosis|寿命评估=service-life assessment",
        tech="数字孪生=digital twin|永磁同步牵引=permanent-magnet synchronous traction|声发射监测"
        "=acoustic emission monitoring",
        app="城市轨道交通=urban rail transit|高寒地区铁路=railways in cold regions|重载铁路"
        "=heavy-haul railways",
        prop="智能=intelligent|节能=energy-saving|低噪声=low-noise",
    ),
    _f(
        "coal_chemistry",
        "煤化工",
        "Coal chemistry",
        "化学工程",
        growth=-0.06,
        weight=0.7,
        academic=0.3,
        obj="煤制烯烃=coal-to-olefins|煤气化炉=coal gasifier|煤焦油=coal tar|煤制乙二醇"
        "=coal-to-ethylene glycol|兰炭=semi-coke",
        proc="*工艺优化=process optimisation|催化剂开发=catalyst development|*废水处理装置"
        "=wastewater treatment unit|节能降耗=energy saving and consumption reduction",
        tech="流化床=fluidised bed|加氢精制=hydrofining|费托合成=Fischer-Tropsch synthesis",
        app="现代煤化工基地=modern coal-chemical bases|焦化企业=coking plants|精细化学品"
        "=fine chemicals",
        prop="清洁=clean|低碳=low-carbon|高效=efficient",
    ),
    _f(
        "biopharma",
        "生物医药",
        "Biopharmaceuticals",
        "药学",
        growth=0.07,
        weight=1.2,
        academic=0.55,
        obj="单克隆抗体=monoclonal antibody|抗体偶联药物=antibody-drug conjugate|CAR-T细胞"
        "=CAR-T cells|重组蛋白药物=recombinant protein drug|多肽药物=peptide drug",
        proc="*表达纯化工艺=expression and purification process|药代动力学=pharmacokinetics"
        "|质量控制=quality control|靶点筛选=target screening",
        tech="杂交瘤技术=hybridoma technology|噬菌体展示=phage display|连续流生产=continuous "
        "manufacturing",
        app="实体瘤治疗=solid tumour therapy|自身免疫病=autoimmune diseases|罕见病=rare diseases",
        prop="高亲和力=high-affinity|长效=long-acting|双特异性=bispecific",
    ),
    _f(
        "env_monitoring",
        "环境监测",
        "Environmental monitoring",
        "环境科学",
        growth=0.03,
        weight=1.0,
        academic=0.45,
        obj="大气颗粒物=atmospheric particulate matter|挥发性有机物=volatile organic compounds"
        "|水质在线监测仪=online water-quality analyser|土壤重金属=soil heavy metals"
        "|噪声监测系统=noise monitoring system",
        proc="源解析=source apportionment|*在线监测设备=online monitoring equipment|预警方法"
        "=early-warning method|采样方法=sampling method",
        tech="激光雷达=lidar|卫星遥感=satellite remote sensing|物联网=internet of things",
        app="工业园区=industrial parks|流域治理=river-basin management|城市空气质量=urban air "
        "quality",
        prop="网格化=gridded|智能化=intelligent|低成本=low-cost",
    ),
    _f(
        "steel_metallurgy",
        "钢铁冶金",
        "Steel and metallurgy",
        "冶金工程",
        growth=-0.05,
        weight=0.8,
        academic=0.3,
        obj="高强钢=high-strength steel|电工钢=electrical steel|连铸坯=continuous casting slab"
        "|高炉=blast furnace|钢渣=steel slag",
        proc="*冶炼工艺=smelting process|组织性能调控=microstructure and property control"
        "|*余热回收装置=waste heat recovery unit|质量缺陷控制=quality defect control",
        tech="氢冶金=hydrogen metallurgy|控轧控冷=controlled rolling and cooling|电磁搅拌"
        "=electromagnetic stirring",
        app="汽车用钢=automotive steel|桥梁建设=bridge construction|变压器=transformers",
        prop="超低碳=ultra-low-carbon|高强韧=high-strength high-toughness"
        "|耐腐蚀=corrosion-resistant",
    ),
    _f(
        "textiles",
        "纺织印染",
        "Textiles and dyeing",
        "纺织科学与工程",
        growth=-0.04,
        weight=0.8,
        academic=0.25,
        obj="功能性纤维=functional fibre|无水染色=waterless dyeing|非织造布=nonwoven fabric"
        "|再生聚酯=recycled polyester|智能纺织品=smart textiles",
        proc="*染整工艺=dyeing and finishing process|性能测试=performance testing|*生产设备"
        "=production equipment|印染废水回用=dyeing wastewater reuse",
        tech="超临界CO2染色=supercritical CO2 dyeing|纳米整理=nano-finishing|熔喷=melt blowing",
        app="医用防护=medical protection|户外服装=outdoor apparel|家纺=home textiles",
        prop="抗菌=antibacterial|阻燃=flame-retardant|环保=eco-friendly",
    ),
    _f(
        "new_energy_vehicles",
        "新能源汽车",
        "New energy vehicles",
        "车辆工程",
        growth=0.16,
        weight=0.9,
        academic=0.35,
        obj="驱动电机=drive motor|电池管理系统=battery management system|整车热管理系统=vehicle "
        "thermal management system|车载充电机=on-board charger|电驱动桥=electric drive axle",
        proc="控制策略=control strategy|*集成设计=integrated design|能量管理=energy management"
        "|可靠性验证=reliability validation",
        tech="碳化硅功率模块=silicon carbide power modules|热泵空调=heat-pump air conditioning"
        "|模型预测控制=model predictive control",
        app="纯电动乘用车=battery electric passenger cars|城市公交=city buses|物流车=logistics "
        "vehicles",
        prop="高效=high-efficiency|集成化=integrated|低温适应=cold-adapted",
    ),
    _f(
        "solid_waste",
        "固废资源化",
        "Solid waste recycling",
        "环境工程",
        growth=0.04,
        weight=0.8,
        academic=0.35,
        obj="建筑垃圾=construction waste|餐厨垃圾=food waste|废旧动力电池=spent power batteries"
        "|粉煤灰=fly ash|废塑料=waste plastics",
        proc="*资源化利用工艺=resource utilisation process|*分选设备=sorting equipment"
        "|无害化处置=harmless disposal|环境风险评价=environmental risk assessment",
        tech="厌氧消化=anaerobic digestion|热解=pyrolysis|湿法冶金=hydrometallurgy",
        app="无废城市=zero-waste cities|建材生产=building-material production|有色金属回收"
        "=non-ferrous metal recovery",
        prop="高值化=high-value|低成本=low-cost|规模化=large-scale",
    ),
    _f(
        "petrochemicals",
        "石油化工",
        "Petrochemicals",
        "化学工程",
        growth=-0.04,
        weight=0.8,
        academic=0.3,
        obj="催化裂化催化剂=fluid catalytic cracking catalyst|聚丙烯=polypropylene|润滑油添加剂"
        "=lubricant additive|炼厂废气=refinery off-gas|沥青=asphalt",
        proc="*工艺改进=process improvement|性能评价=performance evaluation|*反应器设计=reactor "
        "design|腐蚀防护=corrosion protection",
        tech="分子筛=molecular sieves|加氢裂化=hydrocracking|过程模拟=process simulation",
        app="炼化一体化=integrated refining and chemicals|道路工程=road engineering|汽车工业"
        "=automotive industry",
        prop="高选择性=high-selectivity|低硫=low-sulphur|耐老化=ageing-resistant",
    ),
    _f(
        "animal_nutrition",
        "饲料与动物营养",
        "Feed and animal nutrition",
        "动物营养学",
        weight=0.8,
        academic=0.4,
        obj="饲用酶制剂=feed enzyme|益生菌饲料添加剂=probiotic feed additive|替抗饲料"
        "=antibiotic-free feed|发酵豆粕=fermented soybean meal|水产饲料=aquafeed",
        proc="*发酵工艺=fermentation process|饲喂效果评价=feeding trial evaluation|配方优化"
        "=formula optimisation|*制粒设备=pelleting equipment",
        tech="固态发酵=solid-state fermentation|微生态=microecology|精准营养=precision nutrition",
        app="仔猪=piglets|蛋鸡=laying hens|对虾养殖=shrimp farming",
        prop="高效=efficient|绿色=green|低蛋白=low-protein",
    ),
    _f(
        "building_materials",
        "建筑材料",
        "Building materials",
        "土木工程",
        growth=-0.02,
        weight=0.8,
        academic=0.3,
        obj="超高性能混凝土=ultra-high-performance concrete|装配式墙板=prefabricated wall panel"
        "|保温砂浆=thermal insulation mortar|防水卷材=waterproof membrane|低碳水泥=low-carbon "
        "cement",
        proc="*生产工艺=production process|耐久性=durability|配合比设计=mix design"
        "|*施工装备=construction equipment",
        tech="固废掺合料=solid-waste admixtures|碳化养护=carbonation curing|纳米改性"
        "=nano-modification",
        app="装配式建筑=prefabricated buildings|海工结构=marine structures|既有建筑改造"
        "=retrofit of existing buildings",
        prop="绿色=green|高耐久=high-durability|自修复=self-healing",
    ),
    _f(
        "marine_engineering",
        "海洋工程",
        "Marine engineering",
        "船舶与海洋工程",
        growth=0.03,
        weight=0.6,
        academic=0.5,
        obj="海上风电基础=offshore wind foundation|水下机器人=underwater robot|海水淡化装置"
        "=seawater desalination unit|海洋防腐涂料=marine anti-corrosion coating|深海采矿系统"
        "=deep-sea mining system",
        proc="*结构设计=structural design|腐蚀防护=corrosion protection|*安装装备=installation "
        "equipment|动力响应分析=dynamic response analysis",
        tech="反渗透=reverse osmosis|阴极保护=cathodic protection|水声通信=underwater acoustic "
        "communication",
        app="近海油气田=offshore oil and gas fields|海岛供水=island water supply|深远海养殖"
        "=deep-sea aquaculture",
        prop="耐蚀=corrosion-resistant|大型=large-scale|智能=intelligent",
    ),
    _f(
        "precision_instruments",
        "精密仪器",
        "Precision instruments",
        "仪器科学与技术",
        weight=0.8,
        academic=0.55,
        obj="质谱仪=mass spectrometer|激光测距仪=laser rangefinder|光纤传感器=optical fibre "
        "sensor|扫描电镜=scanning electron microscope|流式细胞仪=flow cytometer",
        proc="*整机研制=instrument development|校准方法=calibration method|信号处理=signal "
        "processing|*核心部件国产化=localisation of core components",
        tech="飞行时间=time-of-flight|光频梳=optical frequency comb|微流控=microfluidics",
        app="环境检测=environmental testing|生命科学研究=life-science research|工业计量"
        "=industrial metrology",
        prop="高分辨率=high-resolution|便携式=portable|高稳定性=high-stability",
    ),
    _f(
        "fine_chemicals",
        "精细化工",
        "Fine chemicals",
        "应用化学",
        weight=1.0,
        academic=0.35,
        obj="水性涂料=waterborne coating|电子化学品=electronic chemicals|表面活性剂=surfactant"
        "|医药中间体=pharmaceutical intermediate|染料=dyestuff",
        proc="*合成工艺=synthesis process|*连续化生产装置=continuous production unit|性能评价"
        "=performance evaluation|杂质控制=impurity control",
        tech="微通道反应=microchannel reaction|绿色催化=green catalysis|膜分离=membrane separation",
        app="汽车涂装=automotive coating|集成电路制造=integrated circuit manufacturing|日化"
        "=household chemicals",
        prop="低VOC=low-VOC|高纯=high-purity|环保型=environmentally friendly",
    ),
    _f(
        "agri_machinery",
        "农业机械",
        "Agricultural machinery",
        "农业工程",
        weight=0.7,
        academic=0.4,
        obj="联合收割机=combine harvester|植保无人机=crop-protection drone|精量播种机=precision "
        "seeder|秸秆还田机=straw-returning machine|温室环境控制系统=greenhouse climate control "
        "system",
        proc="*关键部件设计=design of key components|作业性能试验=field performance test"
        "|*整机开发=machine development|导航控制=navigation control",
        tech="北斗导航=BeiDou navigation|变量施药=variable-rate spraying|机器视觉=machine vision",
        app="丘陵山区=hilly areas|水稻生产=rice production|设施农业=protected agriculture",
        prop="智能=intelligent|高效=efficient|小型=compact",
    ),
    _f(
        "synthetic_biology",
        "合成生物学",
        "Synthetic biology",
        "生物工程",
        growth=0.22,
        since=2016,
        weight=0.5,
        academic=0.6,
        obj="工程菌株=engineered strain|生物基材料=bio-based material|人造蛋白=artificial "
        "protein|天然产物=natural products|酶催化剂=enzyme catalyst",
        proc="*发酵工艺=fermentation process|代谢途径设计=metabolic pathway design|高通量筛选"
        "=high-throughput screening|*放大生产=scale-up production",
        tech="CRISPR基因编辑=CRISPR gene editing|无细胞合成=cell-free synthesis|定向进化"
        "=directed evolution",
        app="化妆品原料=cosmetic ingredients|生物制造=biomanufacturing|替代蛋白=alternative "
        "proteins",
        prop="高产=high-titre|绿色=green|低成本=low-cost",
    ),
    _f(
        "drones",
        "无人机",
        "Unmanned aerial vehicles",
        "航空宇航科学",
        growth=0.15,
        since=2014,
        weight=0.5,
        academic=0.4,
        obj="多旋翼无人机=multirotor drone|垂直起降固定翼无人机=VTOL fixed-wing drone|无人机"
        "飞控系统=drone flight control system|无人机电池=drone battery|反无人机系统=counter-drone "
        "system",
        proc="*结构设计=structural design|飞行控制=flight control|续航提升=endurance "
        "improvement|*集成测试=integration testing",
        tech="视觉避障=visual obstacle avoidance|集群协同=swarm cooperation|RTK定位=RTK "
        "positioning",
        app="电力巡线=power-line inspection|应急救援=emergency rescue|物流配送=logistics delivery",
        prop="长航时=long-endurance|智能=intelligent|轻量化=lightweight",
    ),
    _f(
        "smart_grid",
        "智能电网",
        "Smart grid",
        "电气工程",
        growth=0.05,
        weight=0.7,
        academic=0.4,
        obj="配电自动化终端=distribution automation terminal|特高压输电线路=UHV transmission "
        "line|智能电表=smart meter|储能变流器=energy storage converter|变压器=power transformer",
        proc="故障定位=fault location|状态监测=condition monitoring|*保护装置=protection device"
        "|调度优化=dispatch optimisation",
        tech="边缘计算=edge computing|电力载波通信=power-line carrier communication|柔性直流"
        "=flexible DC",
        app="新能源并网=renewable grid connection|城市配电网=urban distribution networks"
        "|微电网=microgrids",
        prop="智能=intelligent|高可靠=high-reliability|自愈=self-healing",
    ),
)

FIELD_INDEX: dict[str, int] = {f.code: i for i, f in enumerate(FIELDS)}
