package vocab

// words holds a few common words per language, space separated. They seed
// whole-word and split word-piece entries of the generated vocabulary so
// that WordPiece has real work to do in every script.
var words = []string{
	// English
	"the of and to in is that for with on are this from by people world language picture photo dog cat house water",
	// German
	"der die und das nicht Hund Katze Haus Wasser Sprache Bild schön Straße Mädchen",
	// French
	"le la les des est une pour avec chien chat maison eau langue image été français garçon",
	// Spanish
	"el los las una para con perro gato casa agua idioma imagen niño mañana español",
	// Portuguese
	"não uma com para cão gato casa água língua imagem coração português",
	// Italian
	"il gli una per con cane gatto casa acqua lingua immagine città perché",
	// Dutch
	"het een van niet hond kat huis water taal afbeelding",
	// Swedish
	"och att det inte hund katt hus vatten språk bild",
	// Danish / Norwegian
	"og ikke hund kat hus vand sprog billede søster brød",
	// Finnish
	"ja ei koira kissa talo vesi kieli kuva hyvää päivää",
	// Estonian
	"ja ei koer kass maja vesi keel pilt tänan",
	// Hungarian
	"és nem kutya macska ház víz nyelv kép köszönöm",
	// Polish
	"nie jest pies kot dom woda język obraz dziękuję źródło",
	// Czech
	"není pes kočka dům voda jazyk obrázek děkuji",
	// Slovak
	"nie je pes mačka dom voda jazyk obrázok ďakujem",
	// Slovenian / Croatian / Serbian (Latin)
	"pas mačka kuća voda jezik slika hvala",
	// Romanian
	"și nu câine pisică casă apă limbă imagine mulțumesc",
	// Turkish
	"ve bir köpek kedi ev su dil resim teşekkür ederim",
	// Azerbaijani
	"və it pişik ev su dil şəkil",
	// Latvian / Lithuanian
	"un suns kaķis māja ūdens valoda šuo katė namas vanduo kalba",
	// Albanian
	"dhe qen mace shtëpi ujë gjuhë",
	// Vietnamese
	"và không con chó mèo nhà nước ngôn ngữ hình ảnh cảm ơn",
	// Indonesian / Malay
	"dan yang anjing kucing rumah air bahasa gambar terima kasih",
	// Tagalog
	"ang mga aso pusa bahay tubig wika larawan salamat",
	// Swahili
	"na mbwa paka nyumba maji lugha picha asante",
	// Greek
	"και το σκύλος γάτα σπίτι νερό γλώσσα εικόνα ευχαριστώ",
	// Russian
	"и в не собака кошка дом вода язык картинка спасибо",
	// Ukrainian
	"і не собака кіт будинок вода мова зображення дякую",
	// Bulgarian
	"и не куче котка къща вода език картина благодаря",
	// Serbian (Cyrillic) / Macedonian
	"пас мачка кућа вода језик слика хвала",
	// Kazakh / Mongolian
	"және ит мысық үй су тіл сурет нохой муур байшин ус хэл",
	// Armenian
	"և շուն կատու տուն ջուր լեզու նկար շնորհակալություն",
	// Georgian
	"და ძაღლი კატა სახლი წყალი ენა სურათი მადლობა",
	// Hebrew
	"של את כלב חתול בית מים שפה תמונה תודה",
	// Arabic
	"في من كلب قطة بيت ماء لغة صورة شكرا العربية",
	// Persian
	"و در سگ گربه خانه آب زبان تصویر ممنون فارسی",
	// Urdu
	"اور کتا بلی گھر پانی زبان تصویر شکریہ",
	// Hindi
	"और है कुत्ता बिल्ली घर पानी भाषा तस्वीर धन्यवाद हिन्दी",
	// Marathi / Nepali
	"आणि कुत्रा मांजर पाणी भाषा चित्र कुकुर बिरालो",
	// Gujarati
	"અને કૂતરો બિલાડી ઘર પાણી ભાષા ચિત્ર આભાર",
	// Bengali
	"এবং কুকুর বিড়াল বাড়ি জল ভাষা ছবি ধন্যবাদ",
	// Tamil
	"மற்றும் நாய் பூனை வீடு தண்ணீர் மொழி படம் நன்றி",
	// Telugu
	"మరియు కుక్క పిల్లి ఇల్లు నీరు భాష చిత్రం ధన్యవాదాలు",
	// Thai
	"และ สุนัข แมว บ้าน น้ำ ภาษา รูปภาพ ขอบคุณ",
	// Myanmar
	"နှင့် ခွေး ကြောင် အိမ် ရေ ဘာသာ ပုံ ကျေးဇူး",
	// Korean
	"그리고 개 고양이 집 물 언어 사진 감사합니다 한국어",
	// Japanese
	"そして 犬 猫 家 水 言語 写真 ありがとう です カメラ テレビ",
	// Chinese
	"的 是 狗 猫 房子 水 语言 图片 谢谢 中文 和",
}

// cjkCommon lists frequent Han characters, kept in the core tier.
const cjkCommon = "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留红治决周保达办运武半候七必城父强步完革深区即求品士转量空甚众技轻程告江语英基派满式李息写呢识极令黄德收脸钱党倒未持取设始版双历越史商千片容研像找友孩站广改议形委早房音火际则首单据导影失拿网香似斯专石若兵弟谁校读志飞观争究包组造落视济喜离虽坏兴切整读"
