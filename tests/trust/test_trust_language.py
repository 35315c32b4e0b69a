"""Trust in the reader's language: purposes, attribute labels and messages in Azerbaijani for a
reader who chose it, while codes, what an official typed and everything the ledger commits to stay
the same in every language (an Azerbaijani receipt checks exactly as the English one)."""

from __future__ import annotations

import json

from civic.i18n import using
from civic.identity.models import Account
from civic.runtime import Runtime
from civic.trust import receipts
from civic.trust.aggregates import PROFILE_SERVED, served_text
from civic.trust.purposes import ATTRIBUTES, PURPOSES
from civic.trust.receipts_verify import check_receipt
from tests.participation.conftest import World, error
from tests.trust._consent_support import ask, give, run

CONTACT = PURPOSES["contact_about_proposal"]


def test_consent_centre_shows_the_purpose_in_azerbaijani(runtime: Runtime, world: World, browser) -> None:  # type: ignore[no-untyped-def]
    ask(runtime, world.convener, citizen_id=world.leyla.id, attributes=["contact_email"])
    give(runtime, world.leyla, world.agency.id, "research", ["gender"])
    leyla = browser(world.leyla).client
    leyla.cookies.set("civic_lang", "az")
    page = leyla.get("/me/consents")
    assert page.status_code == 200
    assert CONTACT.label_az in page.text and CONTACT.text_az in page.text
    assert PURPOSES["research"].text_az in page.text and ATTRIBUTES["gender"].label_az in page.text
    assert CONTACT.text not in page.text and "Razılıq mərkəzi" in page.text
    english = browser(world.leyla).client.get("/me/consents")
    assert CONTACT.text in english.text and CONTACT.text_az not in english.text


def test_api_texts_follow_the_language_and_codes_do_not(runtime: Runtime, world: World, browser) -> None:  # type: ignore[no-untyped-def]
    give(runtime, world.leyla, world.agency.id, "contact_about_proposal", ["contact_email"])
    leyla = browser(world.leyla)
    leyla.client.cookies.set("civic_lang", "az")
    consent = leyla.get("/api/me/consents").json()["consents"][0]
    assert (consent["purpose"], consent["state"]) == ("contact_about_proposal", "given")
    assert consent["purpose_text"] == CONTACT.text_az
    refused = error(leyla.post(f"/api/me/consents/{consent['id'] + 1000}/withdrawal"), 404)
    assert refused["code"] == "not_found" and "razılığınız yoxdur" in refused["message"]


def test_a_receipt_in_azerbaijani_checks_like_the_english_one(runtime: Runtime, world: World, keys) -> None:  # type: ignore[no-untyped-def]
    consent = give(runtime, world.leyla, world.agency.id, "contact_about_proposal", ["contact_email"])

    def receipt(language: str) -> dict:  # type: ignore[type-arg]
        def build(s):  # type: ignore[no-untyped-def]
            with using(language):
                leyla = s.get(Account, world.leyla.id)
                return receipts.my_receipt(
                    s, keys.signer, leyla, consent.id, base_url="https://civic.example.az"
                )

        return json.loads(json.dumps(run(runtime, build)))

    english, azerbaijani = receipt("en"), receipt("az")
    assert (english["language"], azerbaijani["language"]) == ("en", "az")
    purpose = azerbaijani["services"][0]["purposes"][0]
    assert purpose["purpose"] == CONTACT.text_az and purpose["pii_category"][0]["label"] == "Əlaqə e-poçtu"
    assert english["services"][0]["purposes"][0]["purpose"] == CONTACT.text
    assert azerbaijani["withdrawal"]["how"] != english["withdrawal"]["how"]
    assert azerbaijani["ledger"]["record"] == english["ledger"]["record"]
    assert azerbaijani["ledger"]["leaf_hash"] == english["ledger"]["leaf_hash"]
    assert check_receipt(azerbaijani, keys.public_key) == [] and check_receipt(english, keys.public_key) == []


def test_a_profile_read_is_recorded_in_english_and_shown_translated() -> None:
    recorded = PROFILE_SERVED % {"id": 7, "k": 5}
    assert served_text(recorded) == recorded
    with using("az"):
        assert served_text(recorded).startswith("7 nömrəli ictimai müzakirənin")
        assert served_text("Calling back") == "Calling back"
