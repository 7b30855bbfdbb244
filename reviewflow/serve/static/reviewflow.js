// reviewflow serve: a file the app delivers (the report, the PRISMA diagram) downloads in this
// tab. textual.js would open it in a new window, which browsers block when no click made it.
(function () {
  const nativeOpen = window.open.bind(window);
  window.open = function (url, target, features) {
    const path = typeof url === "string" ? new URL(url, window.location.href).pathname : "";
    if (path.startsWith("/download/")) {
      const link = document.createElement("a");
      link.href = url;
      link.download = "";
      document.body.appendChild(link);
      link.click();
      link.remove();
      return null;
    }
    return nativeOpen(url, target, features);
  };
})();

// Keys reach the app at once after sign-in: focus the terminal as soon as it exists.
(function () {
  let tries = 0;
  const timer = window.setInterval(function () {
    const input = document.querySelector(".xterm-helper-textarea");
    if (input || ++tries > 200) {
      window.clearInterval(timer);
      if (input) input.focus();
    }
  }, 50);
})();
