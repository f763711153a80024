/*
 * cdq-form.js: data quality while a customer or adviser types, for any HTML form (no dependencies).
 *
 *   <script src="https://cdq.example.nl/static/cdq-form.js"></script>
 *   <script>CdqForm.attach(document.querySelector("form"), {apiBase: "https://cdq.example.nl", apiKey: "cdq_..."});</script>
 *
 * The form's inputs are found by name: postcode, house_number, house_number_addition, street, city, first_name,
 * infix, last_name, email, phone, birth_date, company_name, and hidden source_code, qualification, campaign.
 * Optional message elements: [data-cdq=address-status], [data-cdq=name-warning], [data-cdq=existing],
 * [data-cdq=result]. Postcode + house number fill street and city and offer the additions that exist at that
 * number (a <datalist>); an implausible name and an existing customer (needs a key with the "match" scope)
 * show a warning; submit posts the lead once (an Idempotency-Key per filled-in form: a retry after a
 * network error is stored once). Use a key with only the scopes the page needs (read, leads; match for an
 * adviser's screen), and list the page's origin in the service's cors_origins.
 */
(function (global) {
  "use strict";

  var POSTCODE = /^[1-9][0-9]{3} ?[A-Za-z]{2}$/;
  var NUMBER = /^[0-9]{1,5}/;
  var FIELDS = ["title", "initials", "first_name", "infix", "last_name", "birth_date", "company_name", "street",
    "house_number", "house_letter", "house_number_addition", "postcode", "city", "email", "phone", "mobile"];

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  function newKey() {
    if (global.crypto && global.crypto.randomUUID) { return global.crypto.randomUUID(); }
    return "k" + Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  function attach(form, options) {
    var opts = options || {};
    var base = (opts.apiBase || "").replace(/\/$/, "");
    var idempotencyKey = newKey();
    var lastAddress = "";

    function field(name) { return form.querySelector("[name='" + name + "']"); }
    function value(name) { var el = field(name); return el ? String(el.value || "").trim() : ""; }
    function message(name, text, level) {
      var el = form.querySelector("[data-cdq='" + name + "']");
      if (!el) { return; }
      el.textContent = text || "";
      el.setAttribute("data-level", level || "");
    }
    function set(name, text) {
      var el = field(name);
      if (el && text !== null && text !== undefined) {
        el.value = text;
        el.dispatchEvent(new Event("change", {bubbles: true}));
      }
    }
    function call(method, path, body, extraHeaders) {
      var headers = {"Authorization": "Bearer " + opts.apiKey};
      if (body !== undefined) { headers["Content-Type"] = "application/json"; }
      for (var h in (extraHeaders || {})) { headers[h] = extraHeaders[h]; }
      return fetch(base + path, {method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body)})
        .then(function (r) {
          return r.json().catch(function () { return {}; }).then(function (data) { return {status: r.status, data: data}; });
        });
    }
    function record() {
      var out = {};
      FIELDS.forEach(function (name) { var v = value(name); if (v) { out[name] = v; } });
      return out;
    }

    function additions(list) {
      var input = field("house_number_addition");
      if (!input) { return; }
      var id = input.getAttribute("list") || ("cdq-additions-" + Math.random().toString(36).slice(2));
      var datalist = document.getElementById(id);
      if (!datalist) {
        datalist = document.createElement("datalist");
        datalist.id = id;
        form.appendChild(datalist);
        input.setAttribute("list", id);
      }
      datalist.innerHTML = "";
      (list || []).forEach(function (label) {
        var option = document.createElement("option");
        option.value = label;
        datalist.appendChild(option);
      });
      form.setAttribute("data-cdq-additions", (list || []).join(","));
    }

    var checkAddress = debounce(function () {
      var postcode = value("postcode"), number = value("house_number");
      if (!POSTCODE.test(postcode) || !NUMBER.test(number)) { return; }
      var query = "postcode=" + encodeURIComponent(postcode) + "&house_number=" + encodeURIComponent(number);
      var addition = value("house_number_addition");
      if (addition) { query += "&addition=" + encodeURIComponent(addition); }
      if (query === lastAddress) { return; }
      lastAddress = query;
      call("GET", "/v1/address?" + query).then(function (r) {
        if (r.status !== 200) { message("address-status", "Adres kon niet worden gecontroleerd.", "error"); return; }
        var a = r.data;
        additions(a.additions);
        if (a.street) { set("street", a.street); }
        if (a.city) { set("city", a.city); }
        if (a.address_status === "not_found") {
          message("address-status", "Dit adres bestaat niet in de BAG. Controleer postcode en huisnummer.", "warning");
        } else if (a.address_status === "invalid") {
          message("address-status", "Postcode of huisnummer is ongeldig.", "warning");
        } else {
          message("address-status", a.street ? a.street + ", " + a.city : "", "ok");
        }
        checkExisting();
      });
    }, 250);

    var checkName = debounce(function () {
      if (!value("last_name")) { return; }
      call("POST", "/v1/validate", {first_name: value("first_name") || null, infix: value("infix") || null,
        last_name: value("last_name")}).then(function (r) {
        if (r.status !== 200) { return; }
        var name = r.data.name || {};
        message("name-warning", name.plausible === false ? "Deze naam lijkt niet echt. Controleer de naam." : "",
          name.plausible === false ? "warning" : "");
      });
      checkExisting();
    }, 300);

    var checkExisting = debounce(function () {
      var rec = record();
      if (!rec.last_name || !(rec.email || (rec.postcode && rec.house_number) || rec.phone)) { return; }
      call("POST", "/v1/match?limit=1", rec).then(function (r) {
        if (r.status !== 200) { return; }  // a key without the match scope: no duplicate warning
        var best = (r.data.candidates || [])[0];
        var known = best && best.decision === "match";
        message("existing", known ? "Deze klant is al bekend." : "", known ? "info" : "");
        form.setAttribute("data-cdq-existing", known ? "yes" : "no");
      });
    }, 300);

    ["postcode", "house_number", "house_number_addition"].forEach(function (name) {
      var el = field(name);
      if (el) { el.addEventListener("input", checkAddress); }
    });
    ["first_name", "last_name", "infix"].forEach(function (name) {
      var el = field(name);
      if (el) { el.addEventListener("input", checkName); }
    });
    ["email", "phone"].forEach(function (name) {
      var el = field(name);
      if (el) { el.addEventListener("change", checkExisting); }
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var lead = record();
      ["source_code", "qualification", "campaign"].forEach(function (name) { if (value(name)) { lead[name] = value(name); } });
      message("result", "Bezig met versturen...", "");
      call("POST", "/v1/leads", lead, {"Idempotency-Key": idempotencyKey}).then(function (r) {
        if (r.status === 200 || r.status === 201 || r.status === 202) {
          form.setAttribute("data-cdq-lead", r.data.lead_id);
          form.setAttribute("data-cdq-outcome", r.data.outcome);
          message("result", "Bedankt! Uw gegevens zijn ontvangen.", "ok");
          idempotencyKey = newKey();  // the next filled-in form is a new lead
          if (opts.onLead) { opts.onLead(r.data); }
        } else if (r.status === 422) {
          var fields = (r.data.fields || []).map(function (f) { return f.field; }).join(", ");
          message("result", "Controleer: " + fields, "error");
        } else {
          message("result", "Versturen is niet gelukt; probeer het opnieuw.", "error");
        }
      }, function () {
        message("result", "Geen verbinding; probeer het opnieuw.", "error");  // same key: a retry is stored once
      });
    });
    return {check: checkAddress};
  }

  global.CdqForm = {attach: attach};
})(window);
