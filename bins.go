package hebao

// The BIN table: the debit-card BINs (issuer identification numbers, the first 6 to 9
// digits of a card number) of the largest Chinese banks, written by hand from public
// lists of UnionPay BINs, keeping their debit-card (借记卡) entries. Only debit cards are
// listed because only debit cards can be bound (SPEC §4); a credit-card BIN is
// card_bank_unknown. The table is a map literal, so the compiler refuses a BIN listed
// twice.
//
// It is not exhaustive: banks add BINs every year. Adding one is adding a line here;
// a test checks each BIN is 6 to 9 digits and names a bank of issuingBanks.

// The banks' codes, as stored with each bound card. Never change one.
const (
	bankICBC  = "ICBC"
	bankCCB   = "CCB"
	bankABC   = "ABC"
	bankBOC   = "BOC"
	bankBOCOM = "BOCOM"
	bankPSBC  = "PSBC"
	bankCMB   = "CMB"
	bankCITIC = "CITIC"
	bankCIB   = "CIB"
	bankSPDB  = "SPDB"
	bankCMBC  = "CMBC"
	bankCEB   = "CEB"
	bankPAB   = "PAB"
	bankHXB   = "HXB"
	bankCGB   = "CGB"
)

var issuingBanks = map[string]IssuingBank{
	bankICBC:  {bankICBC, "中国工商银行", "Industrial and Commercial Bank of China"},
	bankCCB:   {bankCCB, "中国建设银行", "China Construction Bank"},
	bankABC:   {bankABC, "中国农业银行", "Agricultural Bank of China"},
	bankBOC:   {bankBOC, "中国银行", "Bank of China"},
	bankBOCOM: {bankBOCOM, "交通银行", "Bank of Communications"},
	bankPSBC:  {bankPSBC, "中国邮政储蓄银行", "Postal Savings Bank of China"},
	bankCMB:   {bankCMB, "招商银行", "China Merchants Bank"},
	bankCITIC: {bankCITIC, "中信银行", "China CITIC Bank"},
	bankCIB:   {bankCIB, "兴业银行", "Industrial Bank"},
	bankSPDB:  {bankSPDB, "上海浦东发展银行", "Shanghai Pudong Development Bank"},
	bankCMBC:  {bankCMBC, "中国民生银行", "China Minsheng Bank"},
	bankCEB:   {bankCEB, "中国光大银行", "China Everbright Bank"},
	bankPAB:   {bankPAB, "平安银行", "Ping An Bank"},
	bankHXB:   {bankHXB, "华夏银行", "Hua Xia Bank"},
	bankCGB:   {bankCGB, "广发银行", "China Guangfa Bank"},
}

// bins maps each debit-card BIN to its bank's code.
var bins = map[string]string{
	// 中国工商银行: 622202 is the 牡丹灵通卡 of the examples.
	"622200": bankICBC, "622202": bankICBC, "622203": bankICBC, "622208": bankICBC,
	"620058": bankICBC, "621205": bankICBC, "621206": bankICBC, "621207": bankICBC,
	"621208": bankICBC, "621209": bankICBC, "621210": bankICBC, "621211": bankICBC,
	"621225": bankICBC, "621226": bankICBC, "621227": bankICBC, "621229": bankICBC,
	"621230": bankICBC, "621240": bankICBC, "621281": bankICBC, "621288": bankICBC,
	"621476": bankICBC, "621558": bankICBC, "621559": bankICBC, "621670": bankICBC,
	"621720": bankICBC, "621721": bankICBC, "621722": bankICBC, "621723": bankICBC,
	"621724": bankICBC, "622020": bankICBC, "622944": bankICBC, "623002": bankICBC,
	"623062": bankICBC, "623100": bankICBC, "623163": bankICBC, "955880": bankICBC,

	// 中国建设银行
	"621700": bankCCB, "622700": bankCCB, "622280": bankCCB, "436742": bankCCB,
	"434061": bankCCB, "434062": bankCCB, "453242": bankCCB, "491031": bankCCB,
	"524094": bankCCB, "526410": bankCCB, "552245": bankCCB, "621080": bankCCB,
	"621081": bankCCB, "621082": bankCCB, "621083": bankCCB, "621084": bankCCB,
	"621284": bankCCB, "621466": bankCCB, "621467": bankCCB, "621488": bankCCB,
	"621499": bankCCB, "621598": bankCCB, "621621": bankCCB, "621673": bankCCB,
	"622707": bankCCB, "622966": bankCCB, "622988": bankCCB, "623094": bankCCB,
	"623211": bankCCB, "623668": bankCCB, "623669": bankCCB,

	// 中国农业银行
	"622848": bankABC, "622845": bankABC, "622846": bankABC, "622847": bankABC,
	"622849": bankABC, "622841": bankABC, "622843": bankABC, "622844": bankABC,
	"622821": bankABC, "622822": bankABC, "622823": bankABC, "622824": bankABC,
	"622825": bankABC, "622826": bankABC, "622827": bankABC, "622828": bankABC,
	"620059": bankABC, "620501": bankABC, "621282": bankABC, "621336": bankABC,
	"621619": bankABC, "621671": bankABC, "623018": bankABC, "623052": bankABC,
	"623206": bankABC,

	// 中国银行
	"601382": bankBOC, "456351": bankBOC, "620061": bankBOC, "621283": bankBOC,
	"621330": bankBOC, "621331": bankBOC, "621332": bankBOC, "621568": bankBOC,
	"621569": bankBOC, "621620": bankBOC, "621660": bankBOC, "621661": bankBOC,
	"621662": bankBOC, "621663": bankBOC, "621666": bankBOC, "621667": bankBOC,
	"621668": bankBOC, "621669": bankBOC, "621672": bankBOC, "621725": bankBOC,
	"621756": bankBOC, "621757": bankBOC, "621758": bankBOC, "621759": bankBOC,
	"621785": bankBOC, "621786": bankBOC, "621787": bankBOC, "621788": bankBOC,
	"621789": bankBOC, "621790": bankBOC, "623184": bankBOC, "623208": bankBOC,
	"623569": bankBOC, "623571": bankBOC, "623572": bankBOC, "623573": bankBOC,
	"623575": bankBOC, "623586": bankBOC,

	// 交通银行: 621056801–621056803 are 9-digit BINs, found by the longest prefix.
	"622258": bankBOCOM, "622259": bankBOCOM, "622260": bankBOCOM, "622261": bankBOCOM,
	"622262": bankBOCOM, "405512": bankBOCOM, "601428": bankBOCOM, "621069": bankBOCOM,
	"621056801": bankBOCOM, "621056802": bankBOCOM, "621056803": bankBOCOM,

	// 中国邮政储蓄银行
	"621799": bankPSBC, "621798": bankPSBC, "621797": bankPSBC, "622188": bankPSBC,
	"622187": bankPSBC, "622189": bankPSBC, "622150": bankPSBC, "622151": bankPSBC,
	"622181": bankPSBC, "622182": bankPSBC, "620062": bankPSBC, "621095": bankPSBC,
	"621096": bankPSBC, "621098": bankPSBC, "621285": bankPSBC, "621599": bankPSBC,
	"621674": bankPSBC, "623218": bankPSBC, "623698": bankPSBC, "623699": bankPSBC,
	"955100": bankPSBC,

	// 招商银行
	"622588": bankCMB, "622580": bankCMB, "622598": bankCMB, "622609": bankCMB,
	"621483": bankCMB, "621485": bankCMB, "621486": bankCMB, "621286": bankCMB,
	"410062": bankCMB, "468203": bankCMB, "512425": bankCMB, "524011": bankCMB,
	"623126": bankCMB, "623136": bankCMB,

	// 中信银行
	"622690": bankCITIC, "622691": bankCITIC, "622692": bankCITIC, "622696": bankCITIC,
	"622698": bankCITIC, "622998": bankCITIC, "622999": bankCITIC, "433670": bankCITIC,
	"433671": bankCITIC, "433680": bankCITIC, "442729": bankCITIC, "442730": bankCITIC,
	"620082": bankCITIC, "620527": bankCITIC, "621767": bankCITIC, "621768": bankCITIC,
	"621769": bankCITIC, "621770": bankCITIC, "621771": bankCITIC, "621772": bankCITIC,
	"621773": bankCITIC, "968807": bankCITIC, "968808": bankCITIC, "968809": bankCITIC,

	// 兴业银行
	"622908": bankCIB, "622909": bankCIB, "438588": bankCIB, "438589": bankCIB,
	"966666": bankCIB,

	// 上海浦东发展银行
	"622516": bankSPDB, "622517": bankSPDB, "622518": bankSPDB, "622521": bankSPDB,
	"622522": bankSPDB, "622523": bankSPDB, "621275": bankSPDB, "621351": bankSPDB,
	"621352": bankSPDB, "621390": bankSPDB, "621791": bankSPDB, "621792": bankSPDB,
	"621793": bankSPDB, "621795": bankSPDB, "621796": bankSPDB, "984301": bankSPDB,
	"984303": bankSPDB,

	// 中国民生银行
	"622615": bankCMBC, "622616": bankCMBC, "622617": bankCMBC, "622618": bankCMBC,
	"622619": bankCMBC, "622620": bankCMBC, "622622": bankCMBC, "621691": bankCMBC,
	"623683": bankCMBC, "415599": bankCMBC, "421393": bankCMBC, "421865": bankCMBC,
	"427570": bankCMBC, "427571": bankCMBC, "472067": bankCMBC, "472068": bankCMBC,

	// 中国光大银行
	"622660": bankCEB, "622661": bankCEB, "622662": bankCEB, "622663": bankCEB,
	"622664": bankCEB, "622665": bankCEB, "622666": bankCEB, "622667": bankCEB,
	"622668": bankCEB, "622669": bankCEB, "622670": bankCEB, "622671": bankCEB,
	"622672": bankCEB, "622673": bankCEB, "622674": bankCEB, "620085": bankCEB,
	"620518": bankCEB, "621489": bankCEB, "621490": bankCEB, "621491": bankCEB,
	"621492": bankCEB, "623156": bankCEB,

	// 平安银行
	"621626": bankPAB, "623058": bankPAB, "622298": bankPAB, "622986": bankPAB,
	"622989": bankPAB, "622983": bankPAB, "622536": bankPAB, "622538": bankPAB,
	"622539": bankPAB, "602907": bankPAB, "412962": bankPAB, "412963": bankPAB,
	"415752": bankPAB, "415753": bankPAB, "998800": bankPAB,

	// 华夏银行
	"622630": bankHXB, "622631": bankHXB, "622632": bankHXB, "622633": bankHXB,
	"621222": bankHXB, "623020": bankHXB, "623021": bankHXB, "623022": bankHXB,
	"623023": bankHXB, "999999": bankHXB,

	// 广发银行
	"621462": bankCGB, "622568": bankCGB,
}
