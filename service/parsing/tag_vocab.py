"""Vocabulary for canonicalising TAGS: known codes, multi-word tags, typo fixes.

Data only. The subject codes and FIPS country codes are used to split tags run
together by the source (``KNNPMNUC`` -> ``KNNP``, ``MNUC``); the phrase table
groups words that form one tag (``ISRAELI PALESTINIAN AFFAIRS``) and turns
person tags written without their comma into the TAGS form (``CLINTON
HILLARY`` -> ``CLINTON, HILLARY``); the fixes repair typos seen in cables.

Invariant: every value is upper case; phrase keys are tuples of upper-case words.
"""

from __future__ import annotations

__all__ = ["COUNTRY_CODES", "FIXES", "PHRASES", "SUBJECT_CODES"]

SUBJECT_CODES: frozenset[str] = frozenset(
    """
    AADP ABLD ABUD ACOA ADCO ADPM AEMR AFIN AFSI AFSN AGAO AINF AINR AINT AJAL ALOW AMED
    AMGT AMTC ANET AODE AORC AORG APCS APER ASCH ASEC ASIG ATRN BBSR BEXP BMGT BTIO CACM
    CACS CASC CFED CJAN CLMT CMGT CPAS CVIS CVPR EAGR EAID EAIR ECIN ECIP ECON ECPS EDEV
    EFIN EFIS EIND EINT EINV ELAB ELTN EMIN ENGR ENIV ENRG ENVR EPET ETRD ETTC EWWT EXIM
    FACE GOES IAEA ICTY INRB KACT KAWC KBCT KBIO KBTR KCFE KCIP KCOR KCRM KCRS KCUL KDEM
    KDRG KFLO KFLU KFRD KGHG KGIC KHIV KHLS KIDE KIPR KIRC KIRF KISL KJUS KLIG KMCA KMDR
    KMIG KMPI KNAR KNNP KNUC KNUP KOCI KOLY KPAL KPAO KPIN KPKO KPLS KPOA KPRP KPRV KRAD
    KRVC KSAF KSCA KSEC KSEP KSPR KSTC KSTH KSUM KTDB KTEX KTFN KTIA KTIP KTLA KTRD KUNR
    KVPR KWAC KWBG KWMN MARR MASC MASS MCAP MNUC MOPS MPOS NATO OCII OEXC OFDP OIIP OPDC
    OPRC OREP OSCE OSCI OTRA OVIP PARM PBTS PDEM PEPR PFOR PGOV PHSA PHUM PINR PINS PINT
    PKPO PMIL PNAT POLM PPEL PREF PREL PROP PSOE PTER SCCC SCUL SENV SHUM SMIG SNAR SOCI
    SREF STEC SWCI TBIO TFIN TINT TNGD TPHY TRGY TSPA TSPL UNEP UNGA UNSC
    """.split()  # noqa: SIM905 - a word list is easier to read and extend as text
)
"""Four-letter TAGS subject codes (and a few organisation tags)."""

COUNTRY_CODES: frozenset[str] = frozenset(
    """
    AA AC AE AF AG AJ AL AM AN AO AQ AR AS AU AV AY BA BB BC BD BE BF BG BH BK BL BM BN
    BO BP BQ BR BS BT BU BV BX BY CA CB CD CE CF CG CH CI CJ CK CM CN CO CQ CR CS CT CU
    CV CW CY DA DJ DO DR EC EG EI EK EN ER ES ET EU EZ FG FI FJ FK FM FO FP FR FS GA GB
    GG GH GI GJ GK GL GM GO GP GQ GR GT GV GY GZ HA HK HM HO HR HU IC ID IM IN IO IP IR
    IS IT IV IZ JA JE JM JN JO JU KE KG KN KQ KR KS KT KU KV KZ LA LE LG LH LI LO LQ LS
    LT LU LY MA MB MC MD MF MG MH MI MJ MK ML MN MO MP MQ MR MT MU MV MX MY MZ NC NE NF
    NG NH NI NL NO NP NR NS NU NZ OD PA PC PE PF PG PK PL PM PO PP PS PU QA RE RI RM RN
    RO RP RQ RS RW SA SB SC SE SF SG SH SI SL SM SN SO SP ST SU SV SW SX SY SZ TB TD TE
    TH TI TK TL TN TO TP TS TT TU TV TW TX TZ UC UG UK UN UP UR US UV UY UZ VC VE VI VM
    VQ VT WA WE WF WI WQ WS WZ XA XF XL XM XR XS YI YM ZA ZB ZI
    """.split()  # noqa: SIM905 - a word list is easier to read and extend as text
)
"""FIPS 10-4 country codes as used in TAGS, plus the regional ``X?`` codes."""

PHRASES: dict[tuple[str, ...], tuple[str, ...]] = {
    # person tags written without their comma
    ("CLINTON", "HILLARY"): ("CLINTON, HILLARY",),
    ("STEINBERG", "JAMES"): ("STEINBERG, JAMES B.",),
    ("BIDEN", "JOSEPH"): ("BIDEN, JOSEPH",),
    ("RICE", "CONDOLEEZZA"): ("RICE, CONDOLEEZZA",),
    ("ZOELLICK", "ROBERT"): ("ZOELLICK, ROBERT",),
    ("BUSH", "GEORGE"): ("BUSH, GEORGE W.",),
    ("NOVO", "GUILLERMO"): ("NOVO, GUILLERMO",),
    ("REMON", "PEDRO"): ("REMON, PEDRO",),
    ("JIMENEZ", "GASPAR"): ("JIMENEZ, GASPAR",),
    ("ROOD", "JOHN"): ("ROOD, JOHN",),
    ("CROS", "GERARD"): ("CROS, GERARD",),
    # subject words used as tags
    ("COUNTER", "TERRORISM"): ("COUNTERTERRORISM",),
    ("HUMAN", "RIGHTSPOLMIL"): ("HUMAN RIGHTS", "POL", "MIL"),
    ("HUMAN", "RIGHTS"): ("HUMAN RIGHTS",),
    ("GAZA", "DISENGAGEMENT"): ("GAZA DISENGAGEMENT",),
    ("ISRAELI", "PALESTINIAN", "AFFAIRS"): ("ISRAELI PALESTINIAN AFFAIRS",),
    ("GOI", "EXTERNAL"): ("GOI EXTERNAL",),
    ("GOI", "INTERNAL"): ("GOI INTERNAL",),
    ("ECONOMIC", "AFFAIRS"): ("ECONOMIC AFFAIRS",),
    ("POLITICAL", "AFFAIRS"): ("POLITICAL AFFAIRS",),
    ("CONSULAR", "AFFAIRS"): ("CONSULAR AFFAIRS",),
    ("ECONOMY", "AND", "FINANCE"): ("ECONOMY AND FINANCE",),
    ("IRAQI", "FREEDOM"): ("IRAQI FREEDOM",),
    ("ITALY", "NATIONAL", "ELECTIONS"): ("ITALY NATIONAL ELECTIONS",),
    ("ITALIAN", "POLITICS"): ("ITALIAN POLITICS",),
    ("DOMESTIC", "POLITICS"): ("DOMESTIC POLITICS",),
    ("MEETINGS", "WITH", "AMBASSADOR"): ("MEETINGS WITH AMBASSADOR",),
    ("NEW", "ZEALAND"): ("NEW ZEALAND",),
    ("COUNTRY", "CLEARANCE"): ("COUNTRY CLEARANCE",),
    ("POLITICS", "FOREIGN", "POLICY"): ("POLITICS FOREIGN POLICY",),
    ("FOREIGN", "POLICY"): ("FOREIGN POLICY",),
    ("FOREIGN", "POL"): ("FOREIGN POL",),
    ("MEDIA", "REACTION", "REPORT"): ("MEDIA REACTION REPORT",),
    ("MEDIA", "REACTION"): ("MEDIA REACTION",),
    ("TIP", "IN", "TURKEY"): ("TIP IN TURKEY",),
    ("GLOBAL", "DEFENSE"): ("GLOBAL DEFENSE",),
    ("ECONOMIC", "AND", "COMMERCIAL", "AFFAIRS"): ("ECONOMIC AND COMMERCIAL AFFAIRS",),
    ("TRADE", "AND", "INVESTMENT"): ("TRADE AND INVESTMENT",),
}
"""Word runs that form one tag (longest match wins)."""

FIXES: dict[str, tuple[str, ...]] = {
    "MOPPS": ("MOPS",),
    "POGOV": ("PGOV",),
    "RU": ("RS",),
    "SYR": ("SY",),
    "UNDESCO": ("UNESCO",),
    "POLMIL": ("POL", "MIL"),
    "RIGHTSPOLMIL": ("RIGHTS", "POL", "MIL"),
}
"""Typos and run-together words the code splitter cannot repair."""
