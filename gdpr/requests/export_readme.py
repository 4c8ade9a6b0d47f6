"""The README.md inside an access export (art. 15), in Dutch and English."""

README = """\
# Uw gegevens in Beeldbank / Your data in Beeldbank

*Nederlands hieronder, English below.*

## Nederlands

Dit archief bevat alle gegevens die Beeldbank, de beeldbank van onze
communicatiedienst, over u bewaart (inzageverzoek, artikel 15 AVG).

- `person.json`: alle gegevens hieronder in één bestand (JSON, leesbaar met een
  teksteditor)
- `person.json` → `person`: uw gegevens: naam, e-mailadres, notities, of u minderjarig
  bent, of uw naam verborgen is in de zoekfunctie, wanneer het record gemaakt en
  gewijzigd is
- `person.json` → `consents`: elke versie van elke toestemming: kanalen (bv. website,
  sociale media, drukwerk), begin- en einddatum, naam van de voogd, versie van het
  formulier, notities, intrekking (datum en reden); een gewijzigde toestemming is een
  nieuwe versie, de oude blijft bewaard
- `evidence/`: het ondertekende toestemmingsformulier (scan of foto) per toestemming,
  genoemd naar de id van de toestemming
- `person.json` → `faces`: elk gezicht dat aan u gekoppeld is: op welke foto of video,
  waar (`box`: positie en grootte als fractie van de breedte en hoogte), bij video’s van
  welke tot welke seconde (`time_s`, `time_end_s`) en waar het gezicht in elk doorzocht
  beeld was (`path`: seconde, x, y, breedte, hoogte), de toestand (`confirmed`: een
  medewerker heeft bevestigd dat u het bent; `suggested`: het systeem vermoedt het,
  niemand heeft het bevestigd)
- `faces/`: een uitsnede van elk gezicht, genoemd naar de id van het gezicht
- `person.json` → `assets`: de foto’s en video’s waarop u staat, met titel,
  beschrijving, opnamedatum en waar ze gepubliceerd zijn (`usages`: kanaal, adres,
  datum)
- `assets/`: een kleine versie (thumbnail) van elke foto of video, genoemd naar de id
  ervan
- `person.json` → `audit`: de vermeldingen in het logboek die over u gaan: wie
  (medewerker-id) wat deed en wanneer

**Gezichtskenmerken.** Voor elk gezicht waarbij `embedding_stored` op `true`
staat, bewaart Beeldbank een reeks van 128 getallen die een
gezichtsherkenningsmodel uit de uitsnede berekent. Ze dienen alleen om nieuwe
foto’s van u voor te stellen aan een medewerker, die moet bevestigen. Deze
getallen zitten bewust niet in dit archief: ze zeggen een mens niets, ze zijn
versleuteld opgeslagen, en een losse kopie zou een biometrisch kenmerk van u
buiten onze beveiliging brengen. De uitsneden waaruit ze berekend zijn, zitten
wel in `faces/`. U kunt vragen ze te wissen; bij het wissen van uw gegevens
verdwijnen ze altijd.

Id’s van medewerkers en van foto’s zijn interne nummers. Hebt u vragen, of wilt u
gegevens laten verbeteren of wissen, neem dan contact op met de
privacyfunctionaris.

## English

This archive holds everything Beeldbank, our communications team's picture
library, keeps about you (access request, GDPR article 15).

- `person.json`: everything below in one file (JSON, readable in a text editor)
- `person.json` → `person`: your record: name, e-mail address, notes, whether you are a
  minor, whether your name is hidden in search, when the record was created and changed
- `person.json` → `consents`: every version of every consent: channels (e.g. website,
  social media, print), start and end date, guardian's name, form version, notes,
  withdrawal (date and reason); a changed consent is a new version, the old one is kept
- `evidence/`: the signed consent form (scan or photo) of each consent, named after the
  consent's id
- `person.json` → `faces`: every face linked to you: on which photo or video, where
  (`box`: position and size as a fraction of width and height), for videos from which to
  which second (`time_s`, `time_end_s`) and where the face was in each searched frame
  (`path`: second, x, y, width, height), its state (`confirmed`: a staff member
  confirmed it is you; `suggested`: the system thinks so, nobody confirmed it)
- `faces/`: a cut-out of each face, named after the face's id
- `person.json` → `assets`: the photos and videos you appear on, with title,
  description, capture date and where they were published (`usages`: channel, address,
  date)
- `assets/`: a small version (thumbnail) of each photo or video, named after its id
- `person.json` → `audit`: the audit log entries concerning you: who (staff id) did
  what, and when

**Face embeddings.** For each face whose `embedding_stored` is `true`,
Beeldbank keeps a series of 128 numbers that a face recognition model computes
from the cut-out. They serve only to suggest new photos of you to a staff
member, who has to confirm. These numbers are left out of this archive on
purpose: they mean nothing to a person, they are stored encrypted, and a loose
copy would take a biometric template of you outside our protection. The
cut-outs they were computed from are in `faces/`. You can ask for them to be
deleted; erasing your data always deletes them.

Staff and asset ids are internal numbers. For questions, or to have data
corrected or erased, contact the privacy officer.
"""
