"""Function-word stop lists: articles, pronouns, prepositions and postpositions, conjunctions, particles,
negations and the forms of the auxiliary verbs ("be", "have", "will", modal verbs).

Of the size of Snowball's and Lucene's lists (100-300 words), and written for this project on the same
principle: only words that carry grammar, never a word a user may search for. Nouns, adjectives,
numbers and ordinary verbs stay searchable ("world", "year", "next", "round", "state", "million",
"Staat", "год", "estado"), which the large stopwords-iso lists used before did not allow. A language
without a list here gets none: BM25's idf already gives frequent words little weight.
"""

from __future__ import annotations

LISTS: dict[str, str] = {
    "en": """
a an the and but or nor if then else than as because while until unless although though so that
whether of at by for with about against between into through during before after above below to
from up down in out on off over under again further once here there when where why how what which
who whom whose this that these those all any both each few more most other some such no not only
own same too very can will just should now i me my myself we our ours ourselves you your yours
yourself yourselves he him his himself she her hers herself it its itself they them their theirs
themselves am is are was were be been being have has had having do does did doing would could
ought may might must shall cannot can't won't don't doesn't didn't isn't aren't wasn't weren't
hasn't haven't hadn't wouldn't shouldn't couldn't mustn't i'm you're he's she's it's we're
they're i've you've we've they've i'd you'd he'd she'd we'd they'd i'll you'll he'll she'll we'll
they'll let's that's who's what's here's there's when's where's why's how's s t d ll m re ve
also via per upon onto within without whom whose yet
""",
    "de": """
aber alle allem allen aller alles als also am an ander andere anderem anderen anderer anderes auch
auf aus bei beim bin bis bist da dabei dadurch dafür dagegen daher damit danach dann daran darauf
daraus darin darum darunter das dass daß dein deine deinem deinen deiner deines dem den denen denn
der deren derer des dessen desto dich die dies diese diesem diesen dieser dieses dir doch dort du
durch ein eine einem einen einer eines er es etwas euch euer eure eurem euren eurer eures für gegen
gewesen habe haben hat hatte hatten hätte hätten hier hin hinter ich ihm ihn ihnen ihr ihre ihrem
ihren ihrer ihres im in indem ins ist jede jedem jeden jeder jedes jene jenem jenen jener jenes
kann kannst kein keine keinem keinen keiner keines können könnte könnten man mein meine meinem
meinen meiner meines mich mir mit muss musste müssen nach neben nicht nichts noch nun nur ob ober
oder ohne seid sein seine seinem seinen seiner seines seit selbst sich sie sind so sodass solch
solche solchem solchen solcher solches soll sollen sollte sollten sondern sowie über um und uns
unser unsere unserem unseren unserer unseres unter von vom vor war waren warst wäre wären was weil
welch welche welchem welchen welcher welches wenn wer werde werden wessen wie wir wird wirst wo
wobei wodurch woher wohin wollen wollte worden wurde wurden würde würden zu zum zur zwar zwischen
""",
    "fr": """
au aux avec ce ces dans de des du elle elles en et eux il ils je la le les leur leurs lui ma mais
me même mes moi mon ne nos notre nous on ou où par pas pour qu que quel quelle quelles quels qui
quoi sa sans se ses si son sur ta te tes toi ton tu un une vos votre vous c d j l à m n s t y
ceci cela cet cette celui celle ceux celles ici dont lequel laquelle lesquels lesquelles auquel
duquel été étée étant suis es est sommes êtes sont serai sera serons seront serait seraient étais
était étions étaient fut furent soit soient ai as a avons avez ont avais avait avions aviez avaient
aura auront aurait auraient eu eut eurent ayant aussi car donc ni or puis lorsque quand comme
""",
    "es": """
de la que el en y a los del se las por un para con no una su al lo como más pero sus le ya o u e
este esta estos estas ese esa esos esas esto eso aquel aquella aquellos aquellas aquello sí porque
entre cuando muy sin sobre también me hasta donde quien quienes desde nos durante les ni contra
ante ellos ellas él ella yo tú te ti tu tus mi mis mí nosotros nosotras vosotros vosotras os
mío mía míos mías tuyo tuya suyo suya suyos suyas nuestro nuestra nuestros nuestras vuestro
vuestra cual cuales cuyo cuya qué cuál cómo dónde cuándo quién tras según mediante sino aunque
pues es son era eran fue fueron ser sido siendo sea sean será serán sería serían soy eres somos
he has ha hemos han había habían hay haya hubo habrá habría habiendo haber está están estaba
estaban estar estoy estamos estuvo estuvieron esté
""",
    "it": """
ad al allo ai agli all agl alla alle con col coi da dal dallo dai dagli dall dagl dalla dalle di
del dello dei degli dell degl della delle in nel nello nei negli nell negl nella nelle su sul
sullo sui sugli sull sugl sulla sulle per tra fra contro io tu lui lei noi voi loro mio mia miei
mie tuo tua tuoi tue suo sua suoi sue nostro nostra nostri nostre vostro vostra vostri vostre mi
ti ci vi lo la li le gli ne il un uno una ma ed se perché anche come dov dove che chi cui non più
quale quali quanto quanti quanta quante quello quelli quella quelle questo questi questa queste
si o e è sono era erano fu furono sia siano essere stato stata stati state ho hai ha abbiamo
avete hanno aveva avevano ebbe avere avuto sto sta stanno stava
""",
    "pt": """
de a o que e do da em um para com não uma os no se na por mais as dos como mas ao ele das à seu
sua ou quando muito nos já eu também só pelo pela até isso ela entre depois sem mesmo aos seus
quem nas me esse eles você essa num nem suas meu às minha numa pelos elas qual nós lhe deles
essas esses pelas este dele tu te vocês vos lhes meus minhas teu tua teus tuas nosso nossa nossos
nossas dela delas esta estes estas aquele aquela aqueles aquelas isto aquilo sobre onde cujo cuja
é são era eram foi foram ser sido seja sejam será serão seria estar está estão estava estavam
esteve estiveram há havia houve haver tem têm tinha tinham teve tiveram ter
""",
    "nl": """
de en van ik te dat die in een hij het niet zijn is was op aan met als voor had er maar om hem
dan zou of wat mijn men dit zo door over ze zich bij ook tot je mij uit der daar haar naar heb
hoe heeft hebben deze u want nog zal me zij nu ge geen omdat iets worden toch al waren veel meer
doen toen moet ben zonder kan hun dus alles onder ja eens hier wie werd altijd doch wordt wezen
kunnen ons zelf tegen na reeds wil kon niets uw iemand geweest andere welke waar waarom wanneer
""",
    "sv": """
och det att i en jag hon som han på den med var sig för så till är men ett om hade de av icke
mig du henne då sin nu har inte hans honom skulle hennes där min man ej vid kunde något från ut
när efter upp vi dem vara vad över än dig kan sina här ha mot alla under någon eller allt mycket
sedan ju denna själv detta åt utan varit hur ingen mitt ni bli blev oss din dessa några deras
blir mina samma vilken er sådan vår blivit dess inom mellan sådant varför varje vilka ditt vem
vilket sitta sådana vart dina vars vårt våra ert era vilkas
""",
    "da": """
og i jeg det at en den til er som på de med han af for ikke der var mig sig men et har om vi min
havde ham hun nu over da fra du ud sin dem os op man hans hvor eller hvad skal selv her alle vil
blev kunne ind når være dog noget ville jo deres efter ned skulle denne end dette mit også under
have dig anden hende mine alt meget sit sine vor mod disse hvis din nogle hos blive mange ad
bliver hendes været thi jer sådan
""",
    "no": """
og i jeg det at en et den til er som på de med han av ikke ikkje der så var meg seg men ett har
om vi min mitt ha hadde hun nå over da ved fra du ut sin dem oss opp man kan hans hvor eller hva
skal selv sjøl her alle vil bli ble blei blitt kunne inn når være kom noen noe ville dere som
deres kun ja etter ned skulle denne for deg si sine sitt mot å meget hvorfor dette disse uten
hvordan ingen din ditt blir samme hvilken hvilke sånn inni mellom vår hver hvem vors hvis både
bare enn fordi før mange også slik vært båe begge siden dykk dykkar dei deira deires deim di då
eg ein eit eitt elles honom hjå ho hoe henne hennar hennes hoss hossen ingi inkje korleis
korso kva kvar kvarhelst kven kvi kvifor me medan mi mine mykje no nokon noka nokor noko nokre
sia sidan so somt somme um upp vere vore verte vort varte vart
""",
    "fi": """
olla olen olet on olemme olette ovat ole oli olisi olisit olisin olisimme olisitte olisivat olit
olin olimme olitte olivat ollut olleet en et ei emme ette eivät minä minun minut minua minussa
minusta minuun minulla minulta minulle sinä sinun sinut sinua sinussa sinusta sinuun sinulla
sinulta sinulle hän hänen hänet häntä hänessä hänestä häneen hänellä häneltä hänelle me meidän
meidät meitä meissä meistä meihin meillä meiltä meille te teidän teidät teitä teissä teistä
teihin teillä teiltä teille he heidän heidät heitä heissä heistä heihin heillä heiltä heille tämä
tämän tätä tässä tästä tähän tällä tältä tälle tänä täksi tuo tuon tuota tuossa tuosta tuohon
tuolla tuolta tuolle tuona tuoksi se sen sitä siinä siitä siihen sillä siltä sille sinä siksi
nämä näiden näitä näissä näistä näihin näillä näiltä näille näinä näiksi nuo noiden noita noissa
noista noihin noilla noilta noille noina noiksi ne niiden niitä niissä niistä niihin niillä
niiltä niille niinä niiksi kuka kenen kenet ketä kenessä kenestä keneen kenellä keneltä kenelle
mikä minkä mitä missä mistä mihin millä miltä mille minä miksi joka jonka jota jossa josta johon
jolla jolta jolle jona joksi jotka joiden joita joissa joista joihin joilla joilta joille joina
joiksi että ja jos koska kuin mutta niin sekä sillä tai vaan vai vaikka kanssa mukaan noin
poikki yli kun nyt itse
""",
    "ru": """
и в во не что он на я с со как а то все всё она так его но да ты к у же вы за бы по только ее её
мне было вот от меня еще ещё нет о об обо из ему когда даже ну ли если уже или ни быть был него до
вас нибудь уж вам ведь там потом себя ей может они тут где есть надо ней для мы тебя их чем была
сам сама само сами чтоб без будто чего тоже себе под будет ж тогда кто этот того потому этого какой
ним здесь этом мой тем чтобы нее неё куда зачем всех при об другой хоть после над тот через эти нас
про всего них какая разве эту моя впрочем свою этой перед том такой им всю между была были было
будут будем буду будешь будете являться является являются являлся являлась являлось являлись
которые который которая которое которых которым которыми котором которого которой которую также
этих этим этими эта это эти тех те та то той ту свой своя своё свои своего своей своих своим своими
какие каких каким какими какое какого какую такая такое такие таких таким такими чему чём кого
кому кем ком нём ими его ею мною тобой нами вами ими лишь либо ибо однако зато
""",
    "uk": """
і й та в у на з із зі до від по за о об при про для під над між через без як що це цей ця ці
той та те ті він вона воно вони я ти ми ви його її їх їм їй йому мене тебе нас вас себе свій своя
своє свої мій моя моє мої твій наш наша наше наші ваш ваша не ні чи але а або то же ж би б лише
тільки вже ще також який яка яке які якого якої яких якому яким якими котрий котра котре котрі де
коли куди звідки чому хто кого кому ким що чого чому чим бути є був була було були буде будуть
""",
    "ro": """
a acea aceasta această aceea acei aceia acel acela acele acelea acest acesta aceste acestea acestei
acestia acestui aceștia acestor acelor acelui ai aia al ale alea ăla ăsta am are aș au avea avem
aveți avut aveau ba că căci cât câte câți către ce cea cei cel cele celor ci cine cineva cu cum
cumva dacă dar de deci deja despre din dintr dintre după e ea ei el ele eram ești este eu fi fie
fiecare fiind fost fără iar îi îl îmi împotriva în înainte între întrucât își la le li lor lui m
mai mă ne nici niciun nicio noi nostru noastră noștri noastre nu o oare ori pe pentru peste până
poate prin sa să se și sau său sale sânt sunt sînt spre sub ta te ți tău tale tot toată toate
toți tu un una unei unor unui unul va vă voi vom vor vostru voastră
""",
    "el": """
ο η το οι τα του της των τον την τους τις ένας ένα μια μιας ενός και κι ή είτε αλλά όμως ενώ
αν εάν να θα δεν μη μην όχι ως με σε στο στη στην στον στα στις στους στου στης από για προς
κατά μετά χωρίς παρά υπό επί αντί δια διά μέχρι ώς ότι πως πώς που πού όπου όταν αφού επειδή
γιατί ποιος ποια ποιο ποιοι ποιες ποιων ποιον ποιου ποιας τι τίποτα αυτός αυτή αυτό αυτοί αυτές
αυτά αυτού αυτής αυτών αυτόν αυτήν αυτούς εκείνος εκείνη εκείνο εκείνοι εκείνα οποίος οποία οποίο
οποίοι οποίες οποίων οποίου οποίας οποίον οποία εγώ εσύ εμείς εσείς μου σου μας σας τους του
της είναι ήταν είμαι είσαι είμαστε ήταν ήσαν έχει έχουν είχε είχαν έχω επίσης ακόμη ακόμα πια
""",
    "ar": """
في من إلى الى على عن مع حتى منذ عند لدى نحو ضد خلال بين قبل بعد فوق تحت أمام امام وراء دون
ثم أو او أم لكن بل لا لم لن ما ماذا متى أين اين كيف لماذا هل قد لقد إن ان أن إنّ أنّ كان كانت
كانوا يكون تكون ليس ليست هو هي هم هما هن أنا انا نحن أنت انت أنتم انتم هذا هذه هذان هاتان
هؤلاء ذلك تلك أولئك الذي التي الذين اللذان اللتان اللواتي اللاتي اللائي كل بعض غير أي اي إذا
اذا إذ اذ لو كما مثل أيضا ايضا وقد ولم ولا وما وهو وهي وكان وكانت وفي ومن وإلى وعلى وعن ومع
فقد فإن فان وأن وان بها به لها له منها منه عليها عليه فيها فيه عنها عنه إليها اليها إليه اليه
""",
    "hi": """
का के की को में से पर ने और या तथा एवं भी ही तो है हैं था थे थी थीं हो होता होती होते
होना हुआ हुई हुए रहा रही रहे गया गई गए गये कर करके करने करता करती करते किया किये
किए इस उस इन उन यह वह ये वे जो जिस जिन जिसे जिसने जिसके जिसकी जिनके जिनकी जिन्होंने
इसके इसकी इसका उसके उसकी उसका इनके उनके उनकी उनका इसे उसे इन्हें उन्हें कि क्या कौन कब
कहाँ कहां क्यों कैसे किस किसी कोई कुछ सब सभी लिए लिये द्वारा तक साथ बाद पहले अपना अपनी
अपने मैं हम तुम आप मेरा मेरी मेरे हमारा हमारी हमारे नहीं न ना
""",
    "tr": """
ve veya ya yahut ile ama fakat ancak lakin çünkü ki de da dahi bile için gibi kadar göre
karşın rağmen sonra önce beri dolayı diye mi mı mu mü ne neden niçin niye nasıl nerede
nereye nereden hangi kim kime kimi kimin bu şu o bunu şunu onu bunun şunun onun buna şuna ona
bunda şunda onda bundan şundan ondan bunlar şunlar onlar bunları onları bunların onların ben sen
biz siz beni seni bizi sizi benim senin bizim sizin bana sana bize size kendi kendisi kendini
kendine her hiç hem ise iken değil olarak olan olup olduğu olduğunu olması oldu ile ise eğer
şayet yani üzere tarafından
""",
    "th": """
ที่ และ ของ ใน การ ความ เป็น มี ได้ ให้ ว่า ไม่ จะ กับ แต่ หรือ โดย จาก ซึ่ง นี้ นั้น ก็ คือ
อยู่ แล้ว ถึง ต่อ เพื่อ เพราะ ถ้า หาก เมื่อ ขณะ ยัง อีก ทั้ง ทุก บาง แห่ง ด้วย ตาม
ระหว่าง อย่าง กัน จึง เขา เรา ท่าน ฉัน ผม คุณ มัน พวก ถูก ต้อง อาจ คง เคย อะไร ไหน ใคร เท่าไร
""",
    "vi": """
và của là có được trong cho với các những một này đã để không khi từ thì đến như về đó cũng
nhưng hay hoặc theo tại bởi vì nên nếu mà rằng lại sẽ đang vẫn còn rất nhiều ở ra vào trên
dưới sau trước giữa cùng nào gì ai đâu ấy nó họ chúng tôi ta mình thế vậy đây kia nữa chỉ
""",
    "pl": """
a aby ale albo ani bez bo by być był była było były będzie będą ci co czy dla do dlaczego gdy
gdzie go i ich ile im in ja jak jaki jaka jakie jako je jego jej jest jestem jeszcze jeśli jeżeli
już ją każdy kiedy kto która które którego której który których którym ku lecz lub ma mają mi
mnie mu my na nad nam nas nic nie niech niego niej nim nią o od oraz on ona one oni ono po pod
podczas przed przez przy się sobie są ta tak także tam te tego tej ten to tu ty tym u w we więc
wszystko z za ze że żeby
""",
    "cs": """
a aby ale ani ano asi až bez bude budou by byl byla byli bylo být co což či další do i jak jako
je jeho jej její jejich jen jenž ještě jsem jsi jsme jsou jste k kam kde kdo kdy když ke která
které kterou který kteří ku mezi mi mně mnou my na nad nám nás ne nebo než nich nic nim ním o od
on ona oni ono pak po pod pokud pro proto protože před při s se si sice své svůj ta tak také tam
te tedy ten tento této to tohle toho tom tomto tu ty tyto u už v ve však vy z za ze že
""",
    "id": """
yang dan di ke dari ini itu dengan untuk pada adalah dalam tidak akan juga atau oleh karena
sebagai telah sudah bahwa ia dia mereka kami kita saya anda kamu nya tersebut maka namun tetapi
jika bila ketika saat agar supaya bagi antara hingga sampai seperti para pun lah kah apa siapa
mana kapan mengapa bagaimana ada belum masih hanya secara terhadap tentang
""",
    "hu": """
a az egy és hogy is nem de ha meg mint van volt lesz vagy csak már még nagyon ez az azt ezt
ezek azok aki ami amely amelyek akik amit akit ahol amikor mert pedig sem se után előtt alatt
között által szerint ki mi mit ő ők én te mi ti neki nekem nekik őt őket itt ott most mind minden
""",
}


def stop_list(lang: str) -> frozenset[str]:
    """The function words of `lang` (ISO 639-1), case-folded; empty when there is no list."""
    if lang == "nb" or lang == "nn":
        lang = "no"
    return frozenset(LISTS.get(lang, "").split())
