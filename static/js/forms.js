/* Forms that keep work (forms marked data-keep):
 * - warn before leaving a page with unsaved changes (beforeunload);
 * - autosave a server-side draft (data-draft-url) a few seconds after a change, and on "Save a draft";
 * - restore the person's own draft (a JSON block the page rendered, data-draft-json) and work kept across an
 *   ended session or a language switch (asked once from the server, for this page only);
 * - before the language switch, keep the half-filled form so the page comes back with it;
 * - the plan editor: add action rows from the empty-row template, and goal selects that follow the goals as typed.
 * No inline script (the Content-Security-Policy forbids it): URLs come from data attributes of this script's tag.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var keepUrl = script && script.getAttribute("data-keep-url");
  var keptUrl = script && script.getAttribute("data-kept-url");
  var forms = Array.prototype.slice.call(document.querySelectorAll("form[data-keep]"));
  if (!forms.length || !window.fetch || !window.FormData) {
    return;
  }

  function csrfToken(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]") ||
      document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function post(url, form, data) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(form), "Accept": "application/json" },
      body: data
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (!response.ok || type.indexOf("application/json") !== 0) {
        throw new Error("not saved");
      }
      return response.json();
    });
  }

  function status(form, text) {
    var box = form.querySelector("[data-draft-status]");
    if (box) {
      box.textContent = text;
    }
  }

  /* --- The plan editor's rows ---------------------------------------------------------------------------- */

  function addRow(form) {
    var template = form.querySelector("template[data-formset-template]");
    if (!template) {
      return null;
    }
    var prefix = template.getAttribute("data-formset-template");
    var total = form.querySelector("input[name='" + prefix + "-TOTAL_FORMS']");
    var max = form.querySelector("input[name='" + prefix + "-MAX_NUM_FORMS']");
    var index = parseInt(total.value, 10);
    if (max && index >= parseInt(max.value, 10)) {
      return null;
    }
    var html = template.innerHTML.replace(/__prefix__/g, String(index)).replace(/__number__/g, String(index + 1));
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var row = holder.firstElementChild;
    template.parentNode.insertBefore(row, template);
    total.value = String(index + 1);
    syncGoals(form);
    return row;
  }

  function goalLines(form) {
    var goals = form.querySelector("textarea[name=goals]");
    if (!goals) {
      return null;
    }
    return goals.value.split(/\r?\n/).map(function (line) { return line.trim(); }).filter(Boolean);
  }

  function syncGoals(form) {
    var lines = goalLines(form);
    if (lines === null) {
      return;
    }
    form.querySelectorAll("select[data-goal-select]").forEach(function (select) {
      var chosen = select.value;
      while (select.options.length > 1) {
        select.remove(1);
      }
      lines.forEach(function (text, i) {
        var label = text.length > 80 ? text.slice(0, 79) + "…" : text;
        select.add(new Option(label, String(i + 1)));
      });
      select.value = chosen && parseInt(chosen, 10) <= lines.length ? chosen : "";
    });
  }

  /* --- Filling a form from kept fields -------------------------------------------------------------------- */

  function fill(form, fields) {
    Object.keys(fields).forEach(function (name) {
      var match = /^(.*)-TOTAL_FORMS$/.exec(name);
      if (match) {
        var total = form.querySelector("input[name='" + name + "']");
        var wanted = parseInt(fields[name][0], 10);
        while (total && parseInt(total.value, 10) < wanted && addRow(form)) { /* add the kept rows */ }
      }
    });
    Object.keys(fields).forEach(function (name) {
      var values = fields[name];
      if (/-(TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS$/.test(name)) {
        return;
      }
      if (name === "goals") {
        var goals = form.querySelector("textarea[name=goals]");
        if (goals) { goals.value = values[0] || ""; syncGoals(form); }
      }
      form.querySelectorAll("[name='" + name.replace(/'/g, "") + "']").forEach(function (el) {
        if (el.type === "hidden" || el.type === "submit" || el.type === "button" || el.type === "file") {
          return;
        }
        if (el.type === "checkbox" || el.type === "radio") {
          el.checked = values.indexOf(el.value) !== -1;
        } else if (el.tagName === "SELECT" && el.multiple) {
          Array.prototype.forEach.call(el.options, function (o) { o.selected = values.indexOf(o.value) !== -1; });
        } else {
          el.value = values[0] || "";
        }
      });
    });
  }

  function serialise(form) {
    var data = new FormData(form);
    data.delete("csrfmiddlewaretoken");
    return data;
  }

  /* --- Each kept form ------------------------------------------------------------------------------------- */

  var dirtyForms = [];
  var leaving = false;

  function isDirty() {
    return dirtyForms.length > 0;
  }

  forms.forEach(function (form) {
    var draftUrl = form.getAttribute("data-draft-url");
    var timer = null;
    var changedSinceSave = false;

    function markDirty() {
      if (dirtyForms.indexOf(form) === -1) {
        dirtyForms.push(form);
      }
      changedSinceSave = true;
      if (draftUrl) {
        window.clearTimeout(timer);
        timer = window.setTimeout(saveDraft, 3000);
      }
    }

    function saveDraft() {
      // Once the form is being submitted the server deletes the draft: a late autosave must not bring it back.
      if (!draftUrl || !changedSinceSave || leaving) {
        return;
      }
      changedSinceSave = false;
      post(draftUrl, form, serialise(form)).then(function (data) {
        status(form, form.getAttribute("data-draft-saved-text") + " " + data.at);
      }, function () {
        changedSinceSave = true;
        status(form, form.getAttribute("data-draft-failed-text"));
      });
    }

    var draftJson = form.getAttribute("data-draft-json");
    var draftBlock = draftJson && document.getElementById(draftJson);
    if (draftBlock) {
      var draft = JSON.parse(draftBlock.textContent || "{}");
      if (draft && Object.keys(draft).length) {
        fill(form, draft);
        status(form, form.getAttribute("data-draft-restored-text"));
      }
    }

    form.addEventListener("input", markDirty);
    form.addEventListener("change", markDirty);
    form.addEventListener("submit", function () {
      leaving = true;
      window.clearTimeout(timer);
    });
    form.querySelectorAll("[data-draft-save]").forEach(function (button) {
      button.hidden = !draftUrl;
      button.addEventListener("click", function () {
        changedSinceSave = true;
        saveDraft();
      });
    });
    form.querySelectorAll("[data-formset-add]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var row = addRow(form);
        if (row) {
          var first = row.querySelector("textarea, input:not([type=hidden]), select");
          if (first) { first.focus(); }
          markDirty();
        }
      });
    });
    var goals = form.querySelector("textarea[name=goals]");
    if (goals) {
      goals.addEventListener("input", function () { syncGoals(form); });
    }
    if (draftUrl) {
      window.setInterval(saveDraft, 10000);
    }

    // Work kept across an ended session or a language switch: asked once for this page (then the server forgets it).
    if (keptUrl) {
      var ask = new FormData();
      ask.append("path", window.location.pathname + window.location.search);
      post(keptUrl, form, ask).then(function (data) {
        if (data.fields && Object.keys(data.fields).length) {
          fill(form, data.fields);
          markDirty();
          status(form, form.getAttribute("data-kept-restored-text"));
        }
      }, function () { /* nothing kept */ });
    }
  });

  window.addEventListener("beforeunload", function (event) {
    if (isDirty() && !leaving) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  /* --- The language switch keeps a half-filled form ----------------------------------------------------- */

  var language = document.querySelector("form.language");
  if (language && keepUrl) {
    language.addEventListener("submit", function (event) {
      if (!isDirty() || language.getAttribute("data-kept") === "1") {
        leaving = true;
        return;
      }
      event.preventDefault();
      var button = event.submitter;
      var form = dirtyForms[0];
      var data = serialise(form);
      data.append("_keep_path", window.location.pathname + window.location.search);
      function go() {
        leaving = true;
        language.setAttribute("data-kept", "1");
        if (button && language.requestSubmit) {
          language.requestSubmit(button);
        } else {
          language.submit();
        }
      }
      post(keepUrl, form, data).then(go, go);
    });
  }
})();
