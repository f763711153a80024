"""Name lists for the synthetic population, authored for cdq (common names in the Netherlands).

The lists are plain strings so they ship inside the package. Dutch formal (baptismal) names carry the
everyday call names (roepnamen) a person is known by: ``Johannes`` is written ``Jan``, ``Hans`` or ``Johan``,
which is exactly what makes Dutch customer files hard to match.
"""

from __future__ import annotations

#: formal name -> call names; the first call name is the most common one.
MALE_NICKNAMES = {
    "Johannes": ["Jan", "Hans", "Johan", "Joop"], "Cornelis": ["Kees", "Cor", "Niels"],
    "Hendrik": ["Henk", "Hein", "Rik"], "Willem": ["Wim", "Pim", "Wil"], "Gerardus": ["Gerard", "Gert", "Ger"],
    "Jacobus": ["Jaap", "Koos", "Co"], "Petrus": ["Piet", "Peter"], "Adrianus": ["Adri", "Arie", "Janus"],
    "Antonius": ["Anton", "Ton", "Toon"], "Franciscus": ["Frans", "Frank", "Cis"], "Theodorus": ["Theo", "Ruud", "Dorus"],
    "Wilhelmus": ["Wim", "Willem", "Wil"], "Hermanus": ["Herman", "Manus"], "Bernardus": ["Ben", "Bernard", "Bennie"],
    "Nicolaas": ["Klaas", "Nico"], "Jozef": ["Sjef", "Jos", "Joep"], "Martinus": ["Martin", "Tinus", "Tijn"],
    "Lambertus": ["Bert", "Lambert"], "Albertus": ["Albert", "Bert", "Ab"], "Gerrit": ["Gert", "Gerrit"],
    "Dirk": ["Dick", "Dik"], "Jacob": ["Jaap", "Koos"], "Maarten": ["Maarten", "Tijn"], "Robertus": ["Rob", "Robert"],
    "Everardus": ["Evert", "Eef"], "Gijsbertus": ["Gijs", "Bert"], "Leonardus": ["Leo", "Leon"],
    "Marinus": ["Rinus", "Marien"], "Arnoldus": ["Arnold", "Noud", "Nol"], "Matthijs": ["Thijs", "Matthijs"],
    "Abraham": ["Bram", "Abe"], "Alexander": ["Alex", "Sander", "Lex"], "Bartholomeus": ["Bart"],
    "Christiaan": ["Chris", "Stijn"], "Daniël": ["Daan", "Daniël"], "Frederik": ["Frits", "Freek", "Fred"],
    "Gerhardus": ["Gerard", "Gert"], "Hubertus": ["Huub", "Bert"], "Izaak": ["Sjaak", "Izaak"],
    "Johannes Cornelis": ["Jan-Kees", "Hans"], "Laurentius": ["Laurens", "Lars"], "Mattheus": ["Thijs", "Matthew"],
    "Reinier": ["Rein", "Reinier"], "Sebastiaan": ["Bas", "Sebas"], "Wouter": ["Wouter"], "Jeroen": ["Jeroen"],
}
#: formal name -> call names for women.
FEMALE_NICKNAMES = {
    "Wilhelmina": ["Willy", "Mien", "Mina", "Wil"], "Johanna": ["Anneke", "Jo", "Hanneke", "Joke"],
    "Cornelia": ["Corrie", "Cor", "Nel", "Kee"], "Maria": ["Marie", "Mies", "Ria", "Mia"],
    "Hendrika": ["Riek", "Henny", "Rika"], "Geertruida": ["Truus", "Trudy", "Geertje"],
    "Elisabeth": ["Lies", "Els", "Betty", "Bep"], "Catharina": ["Toos", "Karin", "Trijntje", "Ina"],
    "Adriana": ["Jeanne", "Adrie", "Sjaan"], "Petronella": ["Nel", "Nelly", "Pieternel"],
    "Jacoba": ["Coby", "Co", "Jacqueline"], "Gerarda": ["Gerda", "Ger"], "Theodora": ["Dora", "Door", "Thea"],
    "Margaretha": ["Greet", "Margriet", "Grietje", "Marga"], "Antonia": ["Toni", "Toos", "Annie"],
    "Anna": ["Anneke", "Ans", "Annie"], "Helena": ["Lenie", "Leny", "Heleen"], "Josephina": ["Fien", "Josje", "Jose"],
    "Aaltje": ["Aly", "Aaltje"], "Francisca": ["Cisca", "Sjaan", "Frans"], "Gerharda": ["Gerda", "Gerrie"],
    "Alida": ["Ali", "Lida"], "Christina": ["Stien", "Christa", "Tineke"], "Susanna": ["Sanne", "Suus", "Suzanne"],
    "Dieuwertje": ["Dieuw", "Dieuwke"], "Evelina": ["Eva", "Evelien"], "Magdalena": ["Lenie", "Magda", "Leen"],
    "Martina": ["Tineke", "Tiny", "Martine"], "Alexandra": ["Sandra", "Alex", "Lexie"], "Elisabetha": ["Lisa", "Liesbeth"],
    "Johanna Maria": ["Joke", "Hannie"], "Sophia": ["Fien", "Sophie", "Fieke"], "Louisa": ["Loes", "Louise"],
}
MALE_FIRST = (
    "Jan Pieter Kees Henk Willem Gerrit Dirk Hans Peter Marcel Rob Mark Erik Frank Paul Martin Michel Richard "
    "Dennis Patrick Jeroen Sander Bas Bart Tom Thomas Ruben Tim Kevin Niels Jasper Stefan Maarten Joost Wouter "
    "Arjan Ronald Edwin Johan Marco Ferry Rene Remco Vincent Jeroen Sjoerd Rutger Thijs Lars Jesse Daan Sem "
    "Lucas Levi Finn Noah Milan Luuk Bram Stijn Jens Max Julian Thijmen Mees Olivier Siem Ties Gijs Hugo Teun "
    "Floris Jelle Koen Rick Nick Robin Joris Wesley Mike Roy Sven Jorn Youri Timo Guus Boaz Hidde Pepijn Casper "
    "Menno Hylke Sietse Durk Wietse Anne Ids Tjeerd Gerben Harm Albert Evert Hennie Jos Ad Toon Frans Bert Cor "
    "Leo Theo Ruud Ton Wim Piet Arie Klaas Koos Jaap Adriaan Maurice Ivo Roel Erwin Raymond Bjorn Danny Sjaak"
).split()
FEMALE_FIRST = (
    "Maria Anna Johanna Cornelia Wilhelmina Elisabeth Hendrika Petronella Geertruida Catharina Sanne Lisa Emma "
    "Julia Sophie Anouk Fleur Eva Lotte Iris Femke Lieke Laura Anne Esther Marieke Linda Monique Sandra "
    "Ingrid Petra Marjolein Ilse Judith Karin Wendy Mirjam Natasja Chantal Kim Manon Nicole Saskia Yvonne Bianca "
    "Astrid Annemarie Marloes Renate Miranda Sabine Jolanda Tamara Jacqueline Ellen Annelies Hanneke Joke "
    "Tineke Gerda Truus Ria Anneke Els Lies Willy Mien Corrie Nel Greet Riek Toos Bep Lenie Joyce Melissa "
    "Daphne Romy Noa Tess Zoë Mila Sara Yara Nina Evi Liv Saar Lynn Fenna Isa Jasmijn Roos Floor Maud Hannah "
    "Nora Elin Amber Britt Demi Kelly Mandy Naomi Robin Shanna Vera Anouk Merel Loes Ilona Dewi Mariska "
    "Chloë Noor Lieve Sietske Hinke Baukje Tjitske Aukje Geeske Janneke Marije Rianne Wilma Hennie Dinie"
).split()
#: (infix, surname); an empty infix means none. Frequencies follow rank roughly (first = most common).
DUTCH_SURNAMES = [
    ("de", "Jong"), ("", "Jansen"), ("de", "Vries"), ("van den", "Berg"), ("van", "Dijk"), ("", "Bakker"),
    ("", "Janssen"), ("", "Visser"), ("", "Smit"), ("", "Meijer"), ("de", "Boer"), ("", "Mulder"),
    ("de", "Groot"), ("", "Bos"), ("", "Vos"), ("", "Peters"), ("", "Hendriks"), ("van", "Leeuwen"),
    ("", "Dekker"), ("", "Brouwer"), ("de", "Wit"), ("", "Dijkstra"), ("", "Smits"), ("de", "Graaf"),
    ("van der", "Meer"), ("van der", "Linden"), ("", "Kok"), ("", "Jacobs"), ("de", "Haan"), ("", "Vermeulen"),
    ("van den", "Heuvel"), ("van der", "Veen"), ("van den", "Broek"), ("de", "Bruijn"), ("de", "Bruin"),
    ("van der", "Heijden"), ("", "Schouten"), ("van", "Beek"), ("", "Willems"), ("van", "Vliet"),
    ("van de", "Ven"), ("", "Hoekstra"), ("", "Maas"), ("", "Verhoeven"), ("", "Koster"), ("van", "Dam"),
    ("van der", "Wal"), ("", "Prins"), ("", "Blom"), ("", "Huisman"), ("", "Peeters"), ("de", "Jonge"),
    ("", "Kuipers"), ("van", "Veen"), ("", "Post"), ("", "Kuiper"), ("", "Veenstra"), ("", "Kramer"),
    ("van den", "Brink"), ("", "Scholten"), ("van", "Wijk"), ("", "Postma"), ("", "Martens"), ("", "Vink"),
    ("de", "Ruiter"), ("", "Timmermans"), ("", "Groen"), ("", "Gerritsen"), ("", "Jonker"), ("van", "Loon"),
    ("", "Boer"), ("van der", "Velde"), ("", "Willemsen"), ("", "Smeets"), ("de", "Lange"), ("de", "Vos"),
    ("", "Bosch"), ("van", "Dongen"), ("", "Schipper"), ("de", "Koning"), ("van der", "Laan"), ("", "Koning"),
    ("van der", "Velden"), ("", "Driessen"), ("van", "Doorn"), ("", "Hermans"), ("", "Evers"), ("van den", "Bosch"),
    ("van der", "Meulen"), ("", "Hofman"), ("", "Bosman"), ("", "Wolters"), ("", "Sanders"), ("van der", "Horst"),
    ("", "Mol"), ("", "Kuijpers"), ("", "Molenaar"), ("van de", "Pol"), ("de", "Leeuw"), ("", "Verbeek"),
    ("", "Hoek"), ("van den", "Bergh"), ("", "Westerhof"), ("", "Claassen"), ("", "Wouters"), ("van", "Rijn"),
    ("", "Verhagen"), ("van", "Bergen"), ("", "Arts"), ("", "Heijnen"), ("", "Kok"), ("van", "Zanten"),
    ("", "Bouwman"), ("", "Sluiter"), ("van", "Beek"), ("", "Lammers"), ("", "Brands"), ("van der", "Ploeg"),
    ("", "Koopman"), ("", "Wijnen"), ("", "Geerts"), ("", "Huijbregts"), ("van", "Gils"), ("ter", "Horst"),
    ("in 't", "Veld"), ("van 't", "Hof"), ("op de", "Beek"), ("ten", "Cate"), ("te", "Velde"), ("van", "Oostrom"),
    ("van der", "Steen"), ("", "Zwart"), ("van", "Houten"), ("", "Verschuren"), ("", "Bulthuis"), ("", "Mulders"),
    ("", "Zijlstra"), ("de", "Haas"), ("van", "Es"), ("", "Stam"), ("", "Hoogendoorn"), ("", "Boersma"),
    ("", "Wijnands"), ("", "Kroon"), ("van", "Rooij"), ("", "Keizer"), ("", "Pronk"), ("van", "Eijk"),
    ("", "Hendriksen"), ("", "Veldman"), ("", "Teunissen"), ("", "Baas"), ("van der", "Zee"), ("", "Rutten"),
    ("", "Versteeg"), ("", "Haverkamp"), ("", "Eijkelenboom"), ("", "Nijland"), ("", "Sikkema"), ("de", "Wolf"),
]
#: Names common among Dutch people of migrant origin: group -> (male first, female first, surnames).
MIGRANT = {
    "tr": ("Mehmet Mustafa Ahmet Ali Hüseyin Hasan Ibrahim Murat Emre Yusuf Ömer Kemal Burak Can Eren",
           "Ayşe Fatma Emine Hatice Zeynep Elif Meryem Büşra Esra Derya Gül Sevgi Özlem Aylin Selin",
           "Yılmaz Kaya Demir Şahin Çelik Yıldız Yıldırım Öztürk Aydın Özdemir Arslan Doğan Kılıç Aslan Çetin Koç Kurt"),
    "ma": ("Mohamed Ahmed Youssef Said Mustafa Abdelkader Hamza Rachid Karim Bilal Anouar Soufiane Ilias Ayoub",
           "Fatima Khadija Naima Samira Malika Nadia Latifa Souad Hanane Zineb Imane Salma Yasmina Houda Ikram",
           "El Amrani Bouzid El Idrissi Benali Amrani Haddou Azzouzi Boukhari El Khatib Ouali Tahiri Aziz Ziani "
           "Bakkali Chaouch El Hamdaoui Belhaj"),
    "sr": ("Radjesh Ravi Sunil Anil Ricardo Romeo Errol Clyde Glenn Iwan Roy Dinesh Sharif Sanjay",
           "Shanti Sita Rekha Anita Sharda Priya Gaitrie Shirley Ingrid Marlene Gracia Natasha Sandhya",
           "Ramdin Ramautar Sewnath Jagessar Ramsaran Mahabier Lachman Kanhai Soekhoe Pinas Brunings Ooft Hooghart "
           "Sedney Biswane Autar"),
    "id": ("Budi Agus Hendra Wayan Rudy Eddy Benny Johnny Teddy Joyce",
           "Dewi Sri Wulan Indah Lestari Kartini Ratna Yanti Tjoek",
           "Tan Lim Sahetapy Tahapary Pattipeilohy Latuheru Siahaya Nanlohy Wattimena Soplantila Sapulette Hukom"),
    "pl": ("Piotr Krzysztof Tomasz Paweł Marcin Michał Łukasz Grzegorz Jakub Kamil Mateusz Dawid",
           "Anna Katarzyna Małgorzata Agnieszka Joanna Magdalena Monika Ewa Karolina Aleksandra Natalia Dorota",
           "Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński Szymański Woźniak Dąbrowski "
           "Kozłowski Mazur Jankowski"),
    "aw": ("Ruthsel Jurich Shurandy Giovanni Ricky Ivar Jeffrey Dwayne Sherwin Ruangel",
           "Shurla Jennifer Yolanda Giselle Mireille Kimberley Shurmaine Ruthmila Suhaylah",
           "Martina Isenia Pieternella Croes Maduro Koolman Rosaria Marchena Cijntje Pietersz Bernabela Girigorie"),
    "cn": ("Wei Jun Hao Ming Jian Lei Bo Kai Chen Yong",
           "Li Mei Ying Xiu Hua Fang Lan Jing Yan Ling",
           "Chan Wong Cheung Li Zhang Wang Liu Chen Yang Huang Zhou Wu Lam Ho"),
}
#: Share of each group among generated persons (the rest are of Dutch descent).
MIGRANT_SHARE = {"tr": 0.025, "ma": 0.025, "sr": 0.02, "id": 0.02, "pl": 0.015, "aw": 0.01, "cn": 0.01}

COMPANY_WORDS = (
    "Bouw Techniek Installatie Transport Logistiek Advies Media Zorg Groen Hout Metaal Schilders Dakwerken "
    "Elektro Automatisering Vastgoed Beheer Handel Import Export Catering Bakkerij Slagerij Kapsalon Fysio "
    "Tandartsen Accountants Notarissen Makelaardij Verzekeringen Hoveniers Loodgieters Reclame Drukkerij"
).split()
COMPANY_STYLE = ("{surname} {word}", "{word}bedrijf {surname}", "{surname} & Zn.", "{place} {word}",
                 "{word} {place}", "{surname} {word} Groep", "Van {surname} {word}")
#: legal form and its share among organisations (Eenmanszaak is the most common in the KvK register).
LEGAL_FORMS = {"B.V.": 0.42, "Eenmanszaak": 0.22, "V.O.F.": 0.12, "Stichting": 0.1, "Vereniging": 0.05,
               "N.V.": 0.02, "Coöperatie": 0.02, "Maatschap": 0.03, "C.V.": 0.02}
TITLES_M = ("dhr.", "de heer", "mr.", "ir.", "drs.", "dr.", "ing.")
TITLES_F = ("mevr.", "mevrouw", "mr.", "ir.", "drs.", "dr.", "ing.")
ADVISERS = ("P. Jansen", "M. de Vries", "A. Bakker", "S. Visser", "R. El Amrani", "K. Smit", "J. van Dijk",
            "L. Mulder", "H. de Boer", "E. Bos")
EMAIL_DOMAINS = ("gmail.com", "hotmail.com", "outlook.com", "live.nl", "ziggo.nl", "kpnmail.nl", "xs4all.nl",
                 "planet.nl", "home.nl", "icloud.com", "yahoo.com", "hotmail.nl", "upcmail.nl", "casema.nl")
#: mistyped domains seen in real customer files, per correct domain.
EMAIL_DOMAIN_TYPOS = {
    "gmail.com": ("gmial.com", "gmail.con", "gmail.nl", "gmai.com", "gmal.com"),
    "hotmail.com": ("hotmial.com", "hotmail.con", "hotmal.com", "hotmai.com"),
    "outlook.com": ("outlok.com", "outlook.con", "outloo.com"), "live.nl": ("live.nll", "lvie.nl"),
    "ziggo.nl": ("zigo.nl", "ziggo.nk"), "kpnmail.nl": ("kpnmail.n", "kpnmial.nl"), "xs4all.nl": ("xs4al.nl",),
    "planet.nl": ("plant.nl",), "home.nl": ("hom.nl",), "icloud.com": ("iclod.com", "icloud.con"),
    "yahoo.com": ("yaho.com", "yahoo.con"), "hotmail.nl": ("hotmial.nl",), "upcmail.nl": ("upcmial.nl",),
    "casema.nl": ("casem.nl",),
}
