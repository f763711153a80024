"""Dutch places with their real four-digit postcode (PC4) range, municipality, province and area code.

Authored for cdq from general knowledge of the Dutch postcode map; each range was checked against a public
PC4 -> locality table (``tests/test_synthetic.py`` repeats that check when ``../shared/data`` is present).
"""

from __future__ import annotations

import pandas as pd

# name, first PC4, last PC4, municipality, province, area code (netnummer)
_PLACES = """
Amsterdam|1011|1109|Amsterdam|Noord-Holland|020
Rotterdam|3011|3089|Rotterdam|Zuid-Holland|010
's-Gravenhage|2491|2599|'s-Gravenhage|Zuid-Holland|070
Utrecht|3511|3585|Utrecht|Utrecht|030
Eindhoven|5611|5658|Eindhoven|Noord-Brabant|040
Groningen|9711|9747|Groningen|Groningen|050
Tilburg|5011|5049|Tilburg|Noord-Brabant|013
Almere|1311|1364|Almere|Flevoland|036
Breda|4811|4839|Breda|Noord-Brabant|076
Nijmegen|6511|6546|Nijmegen|Gelderland|024
Apeldoorn|7311|7336|Apeldoorn|Gelderland|055
Haarlem|2011|2037|Haarlem|Noord-Holland|023
Arnhem|6811|6846|Arnhem|Gelderland|026
Enschede|7511|7548|Enschede|Overijssel|053
Amersfoort|3811|3826|Amersfoort|Utrecht|033
Zaandam|1501|1509|Zaanstad|Noord-Holland|075
's-Hertogenbosch|5211|5237|'s-Hertogenbosch|Noord-Brabant|073
Zwolle|8011|8047|Zwolle|Overijssel|038
Leiden|2311|2334|Leiden|Zuid-Holland|071
Maastricht|6211|6229|Maastricht|Limburg|043
Dordrecht|3311|3329|Dordrecht|Zuid-Holland|078
Zoetermeer|2711|2729|Zoetermeer|Zuid-Holland|079
Ede|6711|6718|Ede|Gelderland|0318
Leeuwarden|8911|8939|Leeuwarden|Fryslân|058
Alkmaar|1811|1827|Alkmaar|Noord-Holland|072
Delft|2611|2629|Delft|Zuid-Holland|015
Deventer|7411|7428|Deventer|Overijssel|0570
Venlo|5911|5928|Venlo|Limburg|077
Hilversum|1211|1223|Hilversum|Noord-Holland|035
Heerlen|6411|6422|Heerlen|Limburg|045
Oss|5341|5349|Oss|Noord-Brabant|0412
Amstelveen|1181|1189|Amstelveen|Noord-Holland|020
Helmond|5701|5709|Helmond|Noord-Brabant|0492
Purmerend|1441|1448|Purmerend|Noord-Holland|0299
Roosendaal|4701|4708|Roosendaal|Noord-Brabant|0165
Schiedam|3111|3125|Schiedam|Zuid-Holland|010
Lelystad|8211|8245|Lelystad|Flevoland|0320
Spijkenisse|3201|3208|Nissewaard|Zuid-Holland|0181
Gouda|2801|2809|Gouda|Zuid-Holland|0182
Vlaardingen|3131|3138|Vlaardingen|Zuid-Holland|010
Hoorn|1621|1628|Hoorn|Noord-Holland|0229
Assen|9401|9408|Assen|Drenthe|0592
Emmen|7811|7825|Emmen|Drenthe|0591
Hengelo|7551|7559|Hengelo|Overijssel|074
Almelo|7601|7609|Almelo|Overijssel|0546
Middelburg|4331|4338|Middelburg|Zeeland|0118
Vlissingen|4381|4387|Vlissingen|Zeeland|0118
Den Helder|1781|1786|Den Helder|Noord-Holland|0223
Veenendaal|3901|3907|Veenendaal|Utrecht|0318
Zeist|3701|3709|Zeist|Utrecht|030
Nieuwegein|3431|3439|Nieuwegein|Utrecht|030
Harderwijk|3841|3848|Harderwijk|Gelderland|0341
Kampen|8261|8267|Kampen|Overijssel|038
Doetinchem|7001|7009|Doetinchem|Gelderland|0314
Bergen op Zoom|4611|4617|Bergen op Zoom|Noord-Brabant|0164
Roermond|6041|6046|Roermond|Limburg|0475
Weert|6001|6006|Weert|Limburg|0495
Woerden|3441|3448|Woerden|Utrecht|0348
Capelle aan den IJssel|2901|2909|Capelle aan den IJssel|Zuid-Holland|010
Goes|4461|4465|Goes|Zeeland|0113
Tiel|4001|4007|Tiel|Gelderland|0344
Meppel|7941|7944|Meppel|Drenthe|0522
Hoogeveen|7901|7909|Hoogeveen|Drenthe|0528
Sneek|8601|8608|Súdwest-Fryslân|Fryslân|0515
"""

#: Everyday spellings of official place names (what people type instead).
PLACE_ALIASES = {"'s-Gravenhage": ["Den Haag", "Den haag", "DEN HAAG", "'s Gravenhage"],
                 "'s-Hertogenbosch": ["Den Bosch", "Den bosch", "'s Hertogenbosch", "DEN BOSCH"],
                 "Capelle aan den IJssel": ["Capelle a/d IJssel", "Capelle aan den Ijssel"]}


def places() -> pd.DataFrame:
    """The place table: ``place, pc4_lo, pc4_hi, gemeente, provincie, area_code, weight``.

    ``weight`` (the number of PC4 areas) makes big cities draw more customers.

    Examples:
        >>> table = places()
        >>> row = table.set_index("place").loc["Utrecht"]
        >>> int(row.pc4_lo), int(row.pc4_hi), row.area_code
        (3511, 3585, '030')
    """
    rows = [line.split("|") for line in _PLACES.strip().splitlines()]
    frame = pd.DataFrame(rows, columns=["place", "pc4_lo", "pc4_hi", "gemeente", "provincie", "area_code"])
    frame[["pc4_lo", "pc4_hi"]] = frame[["pc4_lo", "pc4_hi"]].astype(int)
    frame["weight"] = frame["pc4_hi"] - frame["pc4_lo"] + 1
    return frame
