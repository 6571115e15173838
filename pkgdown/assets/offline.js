// Local stand-ins for the scripts pkgdown 2.0's Bootstrap 5 template loads
// from CDNs (pkgdown/templates/head.html leaves those out so that the site
// reads offline). pkgdown.js calls them once the page is loaded:
// * Toc.init (bootstrap-toc): builds the "On this page" list from the h2/h3
//   headings, as bootstrap-toc does;
// * headroom (hides the navbar on scroll): the navbar simply stays;
// * ClipboardJS (copy buttons): reports itself unsupported, so no buttons;
// * Mark and autocomplete (search): search is off in _pkgdown.yml.
(function($) {
  $.fn.headroom = function() { return this; };
  $.fn.autocomplete = function() { return this; };
  window.ClipboardJS = { isSupported: function() { return false; } };
  window.Mark = function() { this.mark = function() {}; };

  function slug(text) {
    return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
  }
  function anchor($h) {
    var id = $h.attr("id") || $h.parent(".section, section").attr("id");
    if (!id) {
      id = slug($h.text());
      $h.attr("id", id);
    }
    return id;
  }
  window.Toc = {
    init: function(opts) {
      var $nav = opts.$nav;
      if (!$nav || !$nav.length) return;
      var $headings = opts.$scope.filter(function() {
        return !$(this).is("[data-toc-skip]") && $(this).closest("[data-toc-skip]").length === 0;
      });
      var top = $headings.filter("h2");
      var topTag = top.length ? "H2" : "H3";
      var $root = $('<ul class="nav navbar-nav"></ul>');
      var $current = null;
      $headings.each(function() {
        var $h = $(this);
        var tag = this.tagName;
        if (tag !== topTag && !(topTag === "H2" && tag === "H3")) return;
        var text = $h.clone().find(".anchor").remove().end().text().trim();
        var $li = $("<li></li>").append(
          $('<a class="nav-link"></a>').attr("href", "#" + anchor($h)).text(text));
        if (tag === topTag) {
          $root.append($li);
          $current = $li;
        } else if ($current) {
          var $sub = $current.children("ul");
          if (!$sub.length) $sub = $('<ul class="nav navbar-nav"></ul>').appendTo($current);
          $sub.append($li);
        } else {
          $root.append($li);
        }
      });
      $nav.append($root);
    }
  };
})(window.jQuery);
