"""Per-language knowledge for sentence splitting (bot.sentences): where a full stop does not end a sentence.

Each language lists, in lower case without the final dot (inner dots kept: "e.g", "z.b"):

- `plain`: abbreviations that never end a sentence ("Dr.", "bzw.", "проф.").
- `numeric`: abbreviations only when a number follows ("No. 5", "Dec. 20", "S. 12"); elsewhere the word
  may end a sentence ("I said no.").
- `enders`: endings of text that may close a sentence when a capital follows ("etc.", "usw.", "и т. д."),
  as regular expressions matched just before the dot.
- `words1`: one-letter words that may end a sentence (Russian "я"); every other single letter before a dot
  is an initial or an abbreviation ("J. Doe", "А. С. Пушкин", "г.").
- `ordinal`: "5." is an ordinal number (German, Turkish) when a month follows or one of `ordinal_after`
  precedes it ("am 5. November", "der 2. Weltkrieg"); elsewhere a number may end a sentence ("auf 17.").
- `suffixes`: abbreviated word endings (German "Goethestr.").
- `terminators`: characters that end a sentence besides . ! ? … (Greek ";" is its question mark).

Languages not listed use the English rules. Lists favour news text; a missed abbreviation cuts a sentence
in two, a wrong one joins two sentences (the cheaper mistake for passages and best sentences).
"""

from __future__ import annotations

_MONTHS_EN = "jan feb mar apr jun jul aug sep sept oct nov dec"

LANGUAGES: dict[str, dict[str, str]] = {
    "en": {
        "plain": "mr mrs ms messrs dr prof st jr sr rev hon gen col lt sgt capt cmdr adm maj gov sen rep pres supt"
        " det insp vs etc e.g i.e viz cf approx est inc ltd co corp bros assn dept univ govt ave blvd mt"
        " u.s u.k u.n a.m p.m ph.d b.a m.a m.sc d.c n.y l.a",
        "numeric": f"no nos nr p pp fig figs vol vols ch sec art op ed eds {_MONTHS_EN}",
        "enders": r"etc|a\.m|p\.m|inc|ltd|corp|jr|sr",
    },
    "de": {
        "plain": "bzw ca d.h usw z.b u.a u.ä u.u u.v.m v.a vgl z.t zzgl ggf evtl inkl sog dr prof hr fr frl dipl ing"
        " mag med jur phil rer nat hrsg jh jhd bsp chr co mio mrd tsd abt allg bzgl dgl einschl entspr erg gegr"
        " geb gest i.a i.d.r kath ev kfm lt mind mtl röm stellv tägl urspr v.chr n.chr verh vorm wiss zit zus"
        " ausg verl orig st str od rd ff usf etc o.ä s.o s.u",
        "numeric": "nr s abs bd bde kap art tel fax jan feb mär apr jun jul aug sep sept okt nov dez",
        "enders": r"usw|etc|u\.\s?v\.\s?m|usf|ff|o\.\s?ä|u\.\s?ä|chr",
        "ordinal": "1",
        "ordinal_after": "am im vom zum zur beim ab bis seit der die das den dem des ein eine einem einen einer"
        " ihr ihre ihrem ihren ihrer sein seine seinem seinen seiner jeder jede jedes jeden jedem dieser"
        " diese dieses diesen diesem unser unsere bereits erst nur",
        "months": "januar februar märz april mai juni juli august september oktober november dezember jänner"
        " jan feb mär apr jun jul aug sep sept okt nov dez",
        "suffixes": "str",
    },
    "ru": {
        "plain": "гг вв др пр см ср им ул пл просп кв корп стр рис табл руб коп тыс млн млрд трлн долл"
        " проф акад доц канд докт чл корр ген полк подп лейт гл ред изд обл р-н пос дер оз ст чел"
        " ок т.е т.д т.п т.к т.н н.э напр зам зав нач пред тов гос англ нем франц лат"
        " греч род ум изд-во г-н г-жа",
        "numeric": "№ с рис табл гл",
        "enders": r"т\.\s?д|т\.\s?п|и\s+др|и\s+пр|н\.\s?э|тыс|млн|млрд|трлн|руб|коп|долл",
        "words1": "я",
    },
    "uk": {
        "plain": "рр ст вул просп пл м обл р-н смт ім проф акад доц д-р напр див тис млн млрд грн коп т.зв"
        " т.д т.п т.ін пор оз кв корп зокр ін англ нім франц лат гол ред вид-во",
        "numeric": "№ с рис табл",
        "enders": r"т\.\s?д|т\.\s?п|т\.\s?ін|і\s+т\.\s?д|тис|млн|млрд|грн|коп",
        "words1": "я",
    },
    "be": {
        "plain": "гг ст вул праспект пл м абл р-н вёск ім праф акад дац д-р напр гл тыс млн млрд руб кап"
        " г.зн г.д і.інш інш кв корп англ ням франц лац рэд",
        "numeric": "№ с мал табл",
        "enders": r"г\.\s?д|і\s+інш|інш|тыс|млн|млрд|руб|кап",
        "words1": "я",
    },
    "es": {
        "plain": "sr sra srta sres dr dra drs d dña ud uds lic ing arq prof gral gob av avda cía s.a s.l dpto"
        " aprox ej p.ej a.c d.c a.m p.m máx mín pte vda etc ee uu ee.uu edit",
        "numeric": "núm no n pág págs p art cap vol fig tel ene feb mar abr may jun jul ago sep sept oct nov dic",
        "enders": r"etc|ee\.\s?uu|s\.\s?a|s\.\s?l|a\.\s?c|d\.\s?c|a\.\s?m|p\.\s?m",
    },
    "fr": {
        "plain": "mm mme mmes mlle mlles dr pr me mgr st ste cf cie av bd apr j.-c env ex éd etc",
        "numeric": "n° no n p pp art chap vol fig tél janv févr fév avr juil sept oct nov déc",
        "enders": r"etc|cie",
    },
    "it": {
        "plain": "sig sigg sig.ra dott dott.ssa prof avv ing arch geom rag on sen gen col ecc es ca s.p.a s.r.l",
        "numeric": "n nr pag pagg p art cap vol fig tel gen feb mar apr mag giu lug ago set ott nov dic",
        "enders": r"ecc|s\.\s?p\.\s?a|s\.\s?r\.\s?l",
    },
    "pt": {
        "plain": "sr sra srta dr dra prof eng av ex exa exmo etc aprox ltda s.a cia",
        "numeric": "n nº pág p art cap vol fig tel jan fev mar abr mai jun jul ago set out nov dez",
        "enders": r"etc|ltda|s\.\s?a|cia",
    },
    "ro": {
        "plain": "dl dna dlui dnei dr prof ing conf lect str bd sf etc ș.a ș.a.m.d d.p.d.v î.hr d.hr a.c",
        "numeric": "nr art cap vol pag p tel fig ian feb mar apr iun iul aug sept oct noi dec",
        "enders": r"etc|ș\.\s?a|ș\.\s?a\.\s?m\.\s?d|î\.\s?hr|d\.\s?hr",
    },
    "tr": {
        "plain": "dr prof doç yrd av bkz vs sok cad mah apt ltd şti a.ş vb",
        "numeric": "no nr s sy",
        "enders": r"vb|ltd|şti|a\.\s?ş",
        "ordinal": "1",
        "months": "ocak şubat mart nisan mayıs haziran temmuz ağustos eylül ekim kasım aralık",
    },
    "el": {
        "plain": "κ κα δρ καθ π.χ δηλ κτλ κλπ κ.λπ αι μ.χ π.χ λ.χ βλ οδ",
        "numeric": "αρ σελ τηλ",
        "enders": r"κτλ|κλπ|κ\.\s?λπ|π\.\s?χ|μ\.\s?χ|αι",
        "terminators": ";",
    },
    "nl": {
        "plain": "dhr mevr mw dr prof ir ing drs mr bijv bv d.w.z enz e.d m.a.w o.a t.a.v ca",
        "numeric": "nr blz jan feb mrt apr jun jul aug sep okt nov dec",
        "enders": r"enz|e\.\s?d",
    },
    "pl": {
        "plain": "np itd itp tzn tzw prof dr inż mgr ul al pl ok godz wg ds zł tys mln mld",
        "numeric": "nr s str",
        "enders": r"itd|itp|tys|mln|mld|zł",
    },
    "vi": {
        "plain": "tp ths ts pgs gs bs ks tt ct",
        "numeric": "số",
    },
    "hi": {"plain": "डॉ प्रो श्रीमती"},
}
