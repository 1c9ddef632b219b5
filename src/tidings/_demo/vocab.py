"""Neutral synthetic vocabularies: everyday words, tags, apps, places and name parts.

Nothing here is, or imitates, propaganda: the words are about weather, food, sport, school and
markets, so the demo can be shown anywhere. The Arabic list gets spelling variants (أ/إ/ا,
ة/ه, a diacritic) at generation time, because real Arabic text is written that way and a
detector that does not normalise should be seen to miss them.
"""

from __future__ import annotations


def _words(text: str) -> list[str]:
    return text.split()


EN_WORDS = _words(
    """
the a and to of in is for on with at this that it my our your we you they all from
today tomorrow morning evening night week weekend day time year summer season
weather rain sun sunny cloudy wind hot cold warm cool sky clouds storm breeze
coffee tea bread breakfast lunch dinner market fruit dates rice soup cake sweets
recipe kitchen cooking fresh tasty family friends kids school class exam exams
homework teacher students library book books reading story stories news local
city street traffic bus train road bridge park garden river sea beach trip travel
match team goal game player players coach league cup final season fans stadium
win won draw score half second first great good nice happy lovely beautiful best
new old big small long short early late busy quiet open closed ready waiting
shop shopping price prices sale store phone photo photos video music song songs
movie show watch listen play playing work office meeting project plan plans
health walk running gym sleep home house room window door light power water
thanks thank please hello welcome congratulations wishes birthday wedding party
again still just really very more most some many every each other another next
going coming looking making taking finding sharing waiting hoping enjoying
"""
)

# Everyday Arabic words (weather, food, school, sport, markets); no names of groups or places.
AR_WORDS = _words(
    """
صباح مساء الخير النور اليوم غدا الأسبوع الجمعة السبت الطقس المطر الشمس الحر البرد
الجو جميل رائع لطيف سعيد سعيدة شكرا مرحبا أهلا القهوة الشاي الخبز الفطور الغداء العشاء
السوق الفواكه التمر الأرز الحلويات الكعكة المطبخ الطبخ وصفة طازج لذيذ العائلة الأصدقاء
الأطفال المدرسة الصف الامتحان الامتحانات الواجب المعلم الطلاب المكتبة كتاب الكتب القراءة
قصة المدينة الشارع الطريق الجسر الحديقة النهر البحر الشاطئ رحلة السفر المباراة الفريق
هدف اللاعب اللاعبين المدرب الدوري الكأس النهائي الجمهور الملعب فوز تعادل النتيجة الشوط
جديد قديم كبير صغير طويل قصير مبكر متأخر مشغول هادئ مفتوح مغلق جاهز الانتظار المحل
التسوق السعر الأسعار التخفيضات الهاتف صورة الصور فيديو أغنية الأغاني فيلم العمل المكتب
الاجتماع المشروع الخطة الصحة المشي الرياضة النوم البيت الغرفة النافذة الكهرباء الماء
تهنئة مبروك عيد ميلاد الحفلة الزفاف في على من إلى مع هذا هذه كل بعض أكثر جدا أيضا
الآن بعد قبل عند حتى لكن إن أن هنا هناك نحن أنتم هم أنا الحمد الله إن شاء ان
الجامعة الحافلة السيارة الزراعة الحقل المزرعة الورد الربيع الصيف الخريف الشتاء الغيوم
"""
)

STOCK_PHRASES = (
    "good morning everyone",
    "good night all",
    "happy friday",
    "thank you all",
    "have a nice day",
    "what a match",
    "صباح الخير جميعا",
    "مساء الخير",
    "جمعة مباركة",
    "شكرا لكم",
)

# Topical tags as displayed (the hashtags column stores them lower-cased). The first ones are
# the organic trends with daily waves; TRENDS[0] is the one the hijack pushes into.
TRENDS = ("WorldCup", "HeatWave", "ExamResults", "SummerSale", "كأس_العالم", "موجة_حر")

TAGS = _words(
    """
football match goal news weather food coffee travel photo music movie books reading
school exams family friends summer sunset beach nature garden health fitness running
recipe cooking market sale tech phones traffic city weekend friday morning art design
photography love life happy instagood tbt follow throwbackthursday motivation quotes
قهوة صباح_الخير مساء_الخير رياضة كرة_القدم طقس سفر طبخ مدرسة عائلة صور أخبار
الدوري النهائي موسيقى كتب قراءة صيف حديقة تسوق
"""
)

# Organic communities have a tag of their own (fan clubs, hobby groups); the hijacking group's
# tag is one of these, so the tag alone does not give it away.
COMMUNITY_TAGS = _words(
    """
BlueLanternClub RiverSideFC OldTownBakers NightSkyWatch GreenValleyRunners SunriseReaders
HarbourPhoto MountainTrail CityCyclists ChessCorner KiteFliers BirdCount
نادي_القراءة محبي_القهوة عدسة_المدينة
"""
)

# (name, share of accounts as main client). The rare third-party apps are used by few accounts.
COMMON_APPS = (
    ("Twitter for Android", 0.45),
    ("Twitter for iPhone", 0.24),
    ("Twitter Web Client", 0.14),
    ("TweetDeck", 0.04),
    ("Twitter for iPad", 0.03),
    ("Mobile Web (M5)", 0.025),
    ("Twitter for BlackBerry®", 0.02),
    ("Twitter for Windows Phone", 0.01),
    ("Hootsuite", 0.015),
    ("Facebook", 0.01),
    ("Instagram", 0.01),
)
RARE_APPS = (
    "Lantern Poster",
    "Orchard Share",
    "Pebble Scheduler",
    "Quill Relay",
    "Morning Post Bot",
    "Kestrel Feed",
)
APP_CAMPAIGN_APP = "Glad Tidings Relay"

# Domains of organic links, most popular first; paths are synthetic.
DOMAINS = (
    "youtube.com",
    "instagram.com",
    "facebook.com",
    "northgazette.com",
    "sandriver-news.net",
    "dailyharbor.org",
    "citymarket-deals.com",
    "weatherbeacon.net",
    "sportsdesk24.com",
    "al-madina-daily.net",
    "bookshelfreviews.org",
    "kitchenstories.net",
    "wordpress.com",
    "blogspot.com",
    "soundcloud.com",
    "tripnotes.org",
    "examresults-portal.net",
    "photogallery.net",
)

PLACES = (
    ("London", 51.507, -0.128),
    ("Cairo", 30.044, 31.236),
    ("Amman", 31.954, 35.911),
    ("Dubai", 25.205, 55.271),
    ("Riyadh", 24.713, 46.675),
    ("Istanbul", 41.008, 28.978),
    ("Baghdad", 33.315, 44.366),
    ("Beirut", 33.894, 35.502),
    ("Paris", 48.857, 2.352),
    ("New York", 40.713, -74.006),
    ("Tunis", 36.806, 10.181),
    ("Kuwait City", 29.376, 47.977),
)

NAME_PARTS = _words(
    """
sun moon star sky sea river rose lily palm cedar olive amber pearl jade coral
noor layla sara omar yusuf adam lina maya rami hadi dana zaid hala nada karim
blue green red gold silver happy lucky quiet bright swift calm wild little
cat fox owl hawk wolf deer lion bee kite wave leaf stone cloud rain snow
"""
)

AR_NAMES = _words(
    """
نور ليلى سارة عمر يوسف آدم لينا مايا رامي هادي دانة زيد هالة ندى كريم
مريم خالد سلمى فارس ريم علي حسن منى طارق جود
"""
)


def arabic_variants(word: str) -> tuple[str, str]:
    """Two spellings readers meet in the wild: letter variants, and a diacritic added."""
    letters = word.replace("أ", "ا").replace("إ", "ا").replace("آ", "ا")
    if letters.endswith("ة"):
        letters = letters[:-1] + "ه"
    if letters == word and word.endswith("ي"):
        letters = word[:-1] + "ى"
    # A fatha after the first letter: invisible to a reader, fatal to exact matching.
    marked = word[0] + "\u064e" + word[1:] if len(word) > 1 else word
    return letters, marked


BOMB_TAG = "CedarNotice"
"""The tag of the planted hashtag bomb: synthetic, and in no other vocabulary."""
