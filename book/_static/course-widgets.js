// Loaded on pages that carry saved widget state, after require.js and before the
// @jupyter-widgets/html-manager embedder (the order is set by nb_ipywidgets_js in
// _config.yml). It makes the widgets render from files of this site only.
(function () {
  "use strict";
  var script = document.currentScript;
  var vendor = new URL("vendor/", script.src).href;

  // Tells the course's widgets that no Python kernel stands behind this page: a widget that
  // carries recorded answers (CSS class yolo-recorded) looks them up instead of waiting for
  // Python; the others show their saved view with dragging disabled.
  window.YOLO_COURSE_SITE = { static: true };

  window.requirejs.config({
    paths: {
      // anywidget's front-end: an AMD module that needs @jupyter-widgets/base, which the
      // embedder defines. Without this path the embedder would fetch it from a CDN.
      anywidget: vendor + "anywidget/index",
      // The embedder finds its own fonts next to the URL that require.js gives its module id.
      "@jupyter-widgets/html-manager/dist": vendor + "html-manager",
    },
  });

  // Any other widget module would be fetched from the CDN named by the last script tag with
  // data-jupyter-widgets-cdn. Naming a folder of this site turns such a module into a local
  // 404 (a console error that the browser test reports) rather than a request to another host.
  script.setAttribute("data-jupyter-widgets-cdn", vendor + "npm/");

  // ipywidgets typesets widget labels through the MathJax 2 API (MathJax.Hub.Queue); the site
  // runs MathJax 3. Give it the one call it uses, mapped onto MathJax 3.
  document.addEventListener("DOMContentLoaded", function () {
    var mathjax = window.MathJax;
    if (!mathjax || mathjax.Hub || !mathjax.startup) {
      return;
    }
    mathjax.Hub = {
      Queue: function (job) {
        var element = job && job[2];
        mathjax.startup.promise.then(function () {
          return mathjax.typesetPromise(element ? [element] : undefined);
        });
      },
    };
  });
})();
