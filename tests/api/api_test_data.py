"""Facts about the seed articles that the API tests assert exactly."""

PATROL_Q = "Which port did the US patrol boats reach?"
PATROL_DOC = "003_15bbf54440315bf5"
PATROL_SENTENCE = ("On Tuesday, two patrol boats sent to Ukraine's navy by the United States arrived at the southern "
                   "port of Odessa.")
PATROL_SPAN = (1218, 1330)
PATROL_ANSWER = "southern port of Odessa"
PATROL_ANSWER_SPAN = (1306, 1329)
KREMLIN_Q = "Who is the Kremlin spokesman?"
MILLEY_DOC = "000_674862a2fea0ee51"
API_KEY = "test-key-0123456789"
