"""The preview window, drawn with Tk (Python's own toolkit) rather than OpenCV: the GUI build of
OpenCV (opencv-python) needs the system's libGL and GLib at import time, so on a machine without
them even `darutrace serve` would fail to start; the headless build needs nothing and Tk is only
loaded when a window is asked for."""

from __future__ import annotations

import os
import sys
from typing import Any

import cv2
import numpy as np

from scanner.overlay import Picture

MAX_WIDTH = 1280  # larger frames are shown scaled down; decoding still uses every pixel


class PreviewUnavailable(RuntimeError):
    pass


class Window:
    """Shows pictures as they come. Closing it, `q` or Escape end the preview (`show` returns
    False from then on)."""

    def __init__(self, title: str, display: str | None = None) -> None:
        try:
            import tkinter
        except ImportError as exc:
            raise PreviewUnavailable(
                "this Python has no Tk (tkinter); install it (Debian: apt-get install python3-tk)"
            ) from exc
        if display is None and sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
            raise PreviewUnavailable("no display (DISPLAY is not set)")
        try:
            self._root = tkinter.Tk(screenName=display, className="DaruTrace")
        except tkinter.TclError as exc:
            raise PreviewUnavailable(f"cannot open a window: {exc}") from exc
        self._tk = tkinter
        self._root.title(title)
        self._view = tkinter.Label(self._root, borderwidth=0)
        self._view.pack()
        self._photo: Any = None  # Tk forgets an image nothing in Python refers to
        self.open = True
        self._root.protocol("WM_DELETE_WINDOW", self.close)
        for key in ("<KeyPress-q>", "<Escape>"):
            self._root.bind(key, lambda _event: self.close())

    def show(self, picture: Picture) -> bool:
        if not self.open:
            return False
        if picture.shape[1] > MAX_WIDTH:
            height = picture.shape[0] * MAX_WIDTH // picture.shape[1]
            picture = np.asarray(
                cv2.resize(picture, (MAX_WIDTH, height), interpolation=cv2.INTER_AREA), np.uint8
            )
        # PPM is Tk's native format: no conversion library, about 1 ms to encode at 720p.
        ok, ppm = cv2.imencode(".ppm", picture)
        if not ok:
            raise ValueError("cannot encode the frame for the preview")
        self._photo = self._tk.PhotoImage(master=self._root, data=ppm.tobytes(), format="PPM")
        self._view.configure(image=self._photo)
        self._root.update()
        return self.open

    def position(self) -> tuple[int, int]:
        """Where the picture's top-left pixel is on the screen."""
        return self._view.winfo_rootx(), self._view.winfo_rooty()

    def close(self) -> None:
        if self.open:
            self.open = False
            self._root.destroy()
