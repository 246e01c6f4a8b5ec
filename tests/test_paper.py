"""paper.py, lines.py and printed.py on marks drawn here, pixel by pixel: what of the paper's print
is found as lines and taken away, and what of the writing stays. (Whole pictures of writing on
paper: test_numbers.py.)"""

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw, ImageFilter

import images
import lines
import paper
import prepare
import printed
from pixels import label_parts


def test_a_texture_is_no_ruled_lines():
    # A fine lattice of crossing diagonal lines, as a cheque's pattern can be, has marks at every
    # height: taken for lines, it would take the writing on it with it. A ruled page's lines are found.
    y, x = np.mgrid[:200, :400]
    lattice = ((x + y) % 6 == 0) | ((x - y) % 6 == 0)
    ruled = y % 25 == 0
    for mask, count in ((lattice, 0), (ruled, 8)):
        found = lines.horizontal_lines(mask.astype(float), mask, 160)
        assert (found.strength > 0).sum() == count


def test_a_thin_stroke_on_a_printed_pattern_keeps_its_body_and_the_print_goes():
    # A dotted screen as a cheque's (a quarter of the light), and a ring drawn over it with a pen under
    # two pixels broad, soft-edged: most of such a stroke is fainter than Otsu's split between print
    # and pen, and was taken for print with it (before, a third of its pixels were lost).
    y, x = np.mgrid[:200, :200]
    print_ = 0.25 * (((x % 5) < 2) & ((y % 5) < 2))
    ring = Image.new("L", (800, 800), 0)
    ImageDraw.Draw(ring).ellipse((160, 120, 640, 680), outline=255, width=7)
    ring = np.asarray(ring.resize((200, 200), Image.BILINEAR), dtype=np.float32) / 255 * 0.7
    ink, _ = paper.find_ink(torch.from_numpy((1 - np.maximum(print_, ring)).astype(np.float32)), 20)
    ink = ink[20:-20, 20:-20].numpy()
    stroke = ring > 0.2
    far = np.asarray(Image.fromarray(stroke.astype(np.uint8) * 255).filter(ImageFilter.MaxFilter(9))) == 0
    assert (ink[stroke] > 0).mean() > 0.85
    assert not (ink[far] > 0).any()


def test_a_number_cropped_so_tight_that_its_strokes_fill_the_picture_is_no_pattern():
    # Writing cropped to its ink, on a dotted screen: strokes 5 pixels broad, up and down the picture
    # every 16 pixels, reach every part of it, as only a printed pattern's marks did (a pattern alone,
    # with nothing written on it, is all print), and were taken for print. But they are as broad as a
    # tenth of a digit's height, where a pattern's marks are fine at any size: ink; the dots are print.
    y, x = np.mgrid[:50, :170]
    dots = Image.fromarray(((x % 5 < 2) & (y % 5 < 2)).astype(np.uint8) * 255).filter(ImageFilter.GaussianBlur(0.6))
    print_ = 0.3 * np.asarray(dots, dtype=np.float32) / 255
    pen = Image.new("L", (170, 50), 0)
    ImageDraw.Draw(pen).line([(2 + 16 * k, 2 if k % 2 == 0 else 47) for k in range(12)], fill=255, width=5)
    pen = np.asarray(pen.filter(ImageFilter.GaussianBlur(0.6)), dtype=np.float32) / 255
    ink = paper.find_ink(torch.from_numpy(1 - np.maximum(0.8 * pen, print_)), margin=10)[0][10:-10, 10:-10].numpy()
    assert (ink[pen > 0.5] > 0).all() and not (ink[(pen < 0.05) & (print_ > 0.1)] > 0).any()
    with pytest.raises(images.ImageError, match="only paper"):
        paper.find_ink(torch.from_numpy(1 - print_), margin=10)


def test_lines_that_converge_in_a_slanted_photo_are_all_found():
    # A page photographed at a slant: its lines converge, each at a tilt of its own. A line missed
    # would stay as ink, glued to every digit written across it.
    y, x = np.mgrid[:300, :400]
    mask = np.zeros((300, 400), dtype=bool)
    for k in range(5):  # five lines, from 0.16 down on the left to 0.16 up
        mask |= np.abs(y - (40 + 55 * k + (k - 2) * 0.08 * (x - 200))) < 1
    found = lines.horizontal_lines(mask.astype(float), mask, 160)
    assert (found.strength > 0).sum() == 5 and (found.labels[mask] > 0).all()


def test_a_stroke_beside_a_grid_line_is_no_line_but_a_short_line_in_the_grids_step_is():
    # A thin stroke written just right of a grid line and along it (a 6's back, a 1) lies at the
    # ruling's tilt, and is as long as a ruled line that the picture's edge cuts short: it was taken
    # for one and removed (6777 on squared paper read 777). A short line stands a whole step of the
    # ruling from the others, or runs out of the picture (a slanted page's lines converge, so that
    # one beyond those at its tilt may stand anywhere); the stroke, a fraction of a step away, does not.
    ink = np.zeros((300, 400))
    ink[:, 60:62] = ink[:, 160:162] = ink[:, 260:262] = 0.4  # the grid's lines down the page
    ink[:80, 360:362] = 0.4  # the next one, cut short by the picture's edge
    ink[:70, 110:112] = 0.4  # one cut short, half a step from the others
    ink[100:170, 167:169] = 0.4  # the stroke, 6 pixels from a line
    y, x = np.mgrid[:300, :400]
    ink[np.abs(np.hypot((x - 215) / 0.6, y - 135) - 30) < 3] = 0.8  # a 0 in the pen's full ink
    removed = printed.lines_to_remove(ink, ink > 0.1, margin=5)
    assert removed[5:295, 160:162].all() and removed[5:80, 360:362].all() and removed[5:70, 110:112].all()
    assert not removed[100:170, 167:169].any()


def test_the_lines_of_a_page_that_bends_are_taken_away_to_their_ends():
    # A page bent in a photo bows its lines, here by up to 8% of the picture's height. A straight
    # search finds their straightest part, or none; the rest would stay as ink, glued to the digits
    # it reaches. A 1 written across them in a darker pen stays ink.
    y, x = np.mgrid[:300, :400]
    bow = 24 * (1 - ((x - 150) / 250) ** 2)
    mask = np.zeros((300, 400), dtype=bool)
    for k in range(5):
        mask |= np.abs(y - (40 + 55 * k) + bow) < 1
    one = (np.abs(x - 95) < 4) & (y > 20) & (y < 280)
    removed = printed.lines_to_remove(np.where(one, 1.0, 0.5 * mask), mask | one, margin=0)
    assert removed[mask & ~one].all() and not removed[one].any()


@pytest.mark.parametrize("print_, tick_width", [(0.5, 2), (1.0, 5)])
def test_a_forms_ticks_are_print_and_a_1_on_its_line_is_ink(print_, tick_width):
    # A form's line to write on, with ticks standing on it between the cells: printed faint and
    # thin, or as dark and as broad as the pen. A 1 written straight down onto the line stays ink.
    ink = np.zeros((120, 300))
    ink[90:93, 10:290] = print_
    for x in (10, 100, 190, 280):
        ink[70:90, x:x + tick_width] = print_
    ink[30:90, 140:145] = 1.0  # the 1, as tall as the writing
    removed = printed.lines_to_remove(ink, ink > 0.1, margin=5)
    assert removed[90:93, 20:130].all() and not removed[30:89, 140:145].any()
    for x in (10, 100, 190, 280):
        assert removed[70:90, x:x + tick_width].all()


def test_a_margin_line_darker_than_the_pencil_is_print():
    # Written in pencil beside a red margin line darker than it: neither fainter nor thinner than the
    # pencil, the line is print as it crosses the picture and is twice as long as the writing is tall.
    ink = np.zeros((150, 300))
    ink[:, 40:43] = 0.45  # the margin line
    ink[50:100, 80:84] = 0.3  # a 1, and a 0 beside it, in pencil
    y, x = np.mgrid[:150, :300]
    zero = np.abs(np.hypot((x - 150) / 0.6, y - 75) - 25) < 2.5
    ink[zero] = 0.3
    removed = printed.lines_to_remove(ink, ink > 0.1, margin=5)
    assert removed[5:145, 40:43].all() and not removed[50:100, 80:84].any() and not removed[zero].any()


def test_a_ballpoint_crossing_a_margin_line_beside_a_grid_line_keeps_its_stroke():
    # A 0 in a ballpoint hardly darker than the red margin line, which runs 1-2 pixels right of a grid
    # line: the pixels where the pen crosses the margin line are no darker than its print, and the
    # stroke's ink beyond the grid line lay too far away to count. Both count now: the pen's ink in the
    # grid line beside it, and ink as far beyond a broad line as beyond a thin one.
    for width, gap in ((3, 2), (3, 1), (4, 2)):
        ink = np.zeros((150, 300))
        ink[:, 20::40] = ink[:, 21::40] = 0.25  # a faint grid, every 40 pixels
        ink[:, 62 + gap:62 + gap + width] = 0.42  # the margin line, beside the grid line at 60-61
        y, x = np.mgrid[:150, :300]
        zero = np.abs(np.hypot((x - 66) / 0.6, y - 75) - 25) < width - 0.5  # as broad as the margin line
        ink[zero] = 0.5
        removed = printed.lines_to_remove(ink, ink > 0.1, margin=5)
        assert len(label_parts(zero & ~removed)[1]) == 1  # not cut in two
        assert removed[5:40, 62 + gap:62 + gap + width].all()  # the margin line is print


@pytest.mark.parametrize("sag", [2, 4])
def test_a_faint_stroke_across_slightly_bowed_lines_is_not_cut(sag):
    # A 0 washed out by a glare, its stroke no darker than the ruled lines it crosses, which bow by a
    # few pixels as a page does in a photo. Where it crosses a line, the band of pixels taken for the
    # line is as broad as the bow, broader than the line: the 0 stays whole, and the lines go.
    y, x = np.mgrid[:200, :300]
    bow = sag * (1 - ((x - 150) / 150) ** 2)
    ruled = np.zeros((200, 300), dtype=bool)
    for row in (40, 80, 120, 160):
        ruled |= np.abs(y - row - bow) < 1
    zero = np.abs(np.hypot((x - 150) / 0.6, y - 100) - 40) < 2.5
    one = (np.abs(x - 230) < 3) & (y > 60) & (y < 140)  # in the pen's full ink
    ink = np.where(one, 0.9, 0.45 * (ruled | zero))
    removed = printed.lines_to_remove(ink, ink > 0.1, margin=5)
    assert len(label_parts(zero & ~removed)[1]) == 1 and not removed[one].any()
    assert removed[ruled & ~zero & ~one].all()


def test_a_margin_line_that_a_turned_photo_cuts_at_both_ends_is_print():
    # The photo turned by 6 degrees: the margin line leaves the picture at its bottom and at its left
    # edge, well short of the picture's height, and less than twice as long as the writing is tall. Cut
    # at both ends, it is longer than it shows: half as long again as the writing is enough.
    ink = np.zeros((150, 120))
    for row in range(5, 145):
        column = round(14 - 0.105 * (144 - row))
        ink[row, max(5, column):column + 3] = 0.45
    line = ink == 0.45
    ink[70:120, 50:54] = 0.5  # a 1 and a 0 beside it, 50 pixels tall
    y, x = np.mgrid[:150, :120]
    zero = np.abs(np.hypot((x - 85) / 0.6, y - 95) - 25) < 2.5
    ink[zero] = 0.5
    removed = printed.lines_to_remove(ink, ink > 0.1, margin=5)
    assert removed[line].all() and not removed[70:120, 50:54].any() and not removed[zero].any()


def test_a_box_printed_around_a_number_cropped_along_it_is_print_and_a_1_at_the_edge_ink():
    # A cheque's amount cropped to the box printed around it: its side, two pixels thin, along the
    # picture's right edge or a pixel or two in from it, is no longer than the digits are tall and is
    # found as no line. A 7's bar reaches it, or crosses it to the edge and stays whole; a 1 that runs
    # along the left edge, as long, is as thick as the pen, and a 0 stands between: ink. (The 7's
    # stroke down is left out.)
    y, x = np.mgrid[:46, :100]
    zero = np.abs(np.hypot((x - 40) / 0.7, y - 23) - 15) < 3
    for inset, bar_end in ((0, 92), (1, 92), (2, 95)):
        ink = np.zeros((46, 100))
        side = np.zeros((46, 100), dtype=bool)
        side[5:41, 93 - inset:95 - inset] = True  # 36 pixels long, inside the margin of 5
        ink[side] = 0.6
        ink[5:41, 5:11] = ink[zero] = 0.8
        ink[8:13, 66:bar_end] = 0.8  # a 7's bar
        removed = printed.lines_to_remove(ink, ink > 0.1, margin=5)
        assert removed[side & (ink < 0.7)].all() and not removed[ink == 0.8].any()


def test_a_page_on_a_dark_table_is_the_paper_even_where_the_table_fills_half_the_photo():
    # A page photographed on a dark table, the table nearly half of the photo: the page is the paper,
    # and the ring written on it is the ink. (A digit drawn light on black leaves far less light.)
    y, x = np.mgrid[:300, :400]
    page = (np.abs(x - 200) < 150) & (np.abs(y - 150) < 105)  # 52% of the photo
    ring = np.abs(np.hypot(x - 200, y - 150) - 40) < 4
    pixels = np.where(page, 0.6, 0.15) - 0.5 * ring  # the page lit dimly, grey
    ink, _ = paper.find_ink(torch.from_numpy(pixels).float(), margin=10)
    inside = ink[10:-10, 10:-10]
    assert inside[torch.from_numpy(ring)].mean() > 0.5  # the ring is ink
    assert inside[150, 100] == 0 and inside[150, 300] == 0  # the page beside it is not


def test_a_dark_table_leaves_no_strip_of_ink_along_the_page():
    # A page on a dark table that shows in strips beside it, 12 to 17 pixels wide: the smoothed estimate
    # of the background cannot follow the table's sharp edge, and left a grey strip beside the page that
    # was read as a 1. Now the page's own background goes on under the table, and the table is no ink.
    y, x = np.mgrid[:228, :186]
    page = (x >= 12) & (x < 174) & (y >= 17) & (y < 211)
    ring = np.abs(np.hypot(x - 93, y - 114) - 30) < 4
    pixels = np.where(page, 0.9 - 0.2 * (y / 228), 0.2) - 0.7 * ring  # the page's light falls off downwards
    ink, removed = paper.find_ink(torch.from_numpy(pixels).float(), margin=23)
    inside = ink[23:-23, 23:-23]
    assert (inside[torch.from_numpy(ring)] > 0.5).float().mean() > 0.9  # the ring is ink
    assert inside[torch.from_numpy(~page)].max() == 0  # the table is not, nor anything beside the page
    assert inside[torch.from_numpy(page & ~ring)].max() < 0.1
    assert removed[23:-23, 23:-23][torch.from_numpy(~page)].all()  # --save-processed shows it as paper


def test_a_shadow_along_the_pages_edge_is_no_table():
    # A thick 7 whose stem runs down into a shadow that darkens the page towards its lower edge: the
    # shadow runs along the picture's edge, as a table does, and joins the stem. Taken for the table,
    # it took the whole 7 with it; but it is far fainter than the pen, and a table is nearly as dark.
    y, x = np.mgrid[:126, :90]
    shadow = 0.5 * np.clip((y - 70) / 56, 0, 1)  # from nothing at row 70 to 0.5 at the bottom
    seven = (np.abs(y - 50) < 6) & (np.abs(x - 45) < 22) | (np.abs(x - 45) < 6) & (y > 50) & (y < 110)
    ink, _ = paper.find_ink(torch.from_numpy(0.9 - shadow - 0.75 * seven).float(), margin=10)
    assert (ink[10:-10, 10:-10][torch.from_numpy(seven)] > 0.5).float().mean() > 0.9


def test_a_ring_across_a_shadows_edge_is_dark_ink_on_both_sides_and_chalk_light():
    # Two thirds of the page in a shadow half as bright, and more of every edge of the picture: the
    # picture is mostly dark, as a digit drawn light on black is. The ring, darker than the paper
    # around it on both sides of the shadow's edge, tells that the ink is dark.
    y, x = np.mgrid[:300, :400]
    light = 1 - 0.5 / (1 + np.exp((x - 260) / 3))  # the edge's penumbra about 13 pixels wide
    ring = np.abs(np.hypot(x - 260, y - 150) - 50) < 4
    pixels = torch.from_numpy(0.85 * light * (1 - 0.7 * ring)).float()  # ink takes a share of the light
    assert paper.darker_strokes(pixels) and torch.equal(paper.ink_light(pixels)[0], 1 - pixels)
    ink = paper.find_ink(pixels, margin=10)[0][10:-10, 10:-10]
    for side in (x < 250, x > 270):
        assert (ink[torch.from_numpy(ring & side)] > 0.3).float().mean() > 0.9
    assert ink[torch.from_numpy(x > 320)].max() == 0  # the lit paper is no ink
    # Chalk on a board under the same shadow: the strokes are lighter than around them, light ink.
    chalk = torch.from_numpy(light * (0.25 + 0.6 * ring)).float()
    assert not paper.darker_strokes(chalk) and torch.equal(paper.ink_light(chalk)[0], chalk)


def shadowed(take: float, ink: float) -> tuple[torch.Tensor, np.ndarray, list[np.ndarray]]:
    """A page whose right half lies in a shadow that takes `take` of the light, its edge sharp (a few
    pixels), with a ring on either side that takes `ink` of it: the pixels, the x of each, the rings."""
    y, x = np.mgrid[:200, :400]
    light = 1 - take / (1 + np.exp(-(x - 200) / 1.5))
    rings = [np.abs(np.hypot(x - centre, y - 100) - 40) < 4 for centre in (100, 300)]
    return torch.from_numpy(0.85 * light * (1 - ink * (rings[0] | rings[1]))).float(), x, rings


def test_ink_in_a_shadow_is_as_strong_as_in_the_light():
    # Subtracted from the paper, a stroke in a shadow that takes 35% of the light is 35% fainter;
    # weighed against the light the paper sends back there, it is as strong.
    pixels, _, rings = shadowed(0.35, 0.7)
    ink = paper.remove_background(1 - pixels, dark_ink=True)
    lit, shaded = (ink[torch.from_numpy(ring)].mean() for ring in rings)
    assert shaded > 0.9 * lit
    # Only a shadow that comes in from the picture's edge: a dark patch inside the picture is
    # something dark photographed on the paper (a shirt), and its marks are not strengthened.
    background = torch.full((100, 100), 0.1)
    background[30:70, 30:70] = background[:, 90:] = 0.5
    gain = paper.shade_gain(background, torch.ones(100, 100, dtype=torch.bool))
    assert gain[50, 50] == 1 and abs(gain[50, 95] - 0.9 / 0.5) < 1e-6  # the paper's light there 0.5, not 0.9
    # Even paper, or a darker patch in the middle only: no shadow, nothing to weigh.
    background[:, 90:] = 0.1
    assert paper.shade_gain(background, torch.ones(100, 100, dtype=torch.bool)) is None


def test_a_shadow_as_dark_as_a_ballpoints_ink_leaves_no_band_along_its_edge():
    # A shadow that takes half of the light, on a page written in a ballpoint's lighter ink: the
    # shadowed paper is more than 0.6 of the way to the ink, and was smoothed over as if it were a
    # broad stroke, which left a band of ink along the shadow's edge, more than half as strong as a stroke.
    pixels, x, rings = shadowed(0.5, 0.5)
    ink = paper.find_ink(pixels, margin=10)[0][10:-10, 10:-10]
    assert ink[torch.from_numpy(rings[0] | rings[1])].mean() > 0.9
    y = np.mgrid[:200, :400][0]
    assert ink[torch.from_numpy((np.abs(x - 200) < 30) & (np.abs(y - 100) > 50))].max() < 0.3


def test_a_shadow_that_takes_most_of_the_light_is_no_table_and_the_ink_in_it_as_strong():
    # A shadow that takes 70% of the light, as dark as a table beside the page and as sharp, comes in
    # from three of the picture's edges. It was taken for the table, and the ring in it went with it
    # (at 60%: the shadowed paper counted as ink, and the ring in it was weak). A stroke stands out of
    # the shadow by as large a share of the light as out of the lit paper: it is writing on the page.
    pixels, x, rings = shadowed(0.7, 0.7)
    ink = paper.find_ink(pixels, margin=10)[0][10:-10, 10:-10]
    assert all(ink[torch.from_numpy(ring)].mean() > 0.9 for ring in rings)
    assert ink[torch.from_numpy(~(rings[0] | rings[1]))].max() < 0.3  # no paper, and no band along the edge


def test_the_back_of_the_page_showing_through_is_no_ink_but_faint_writing_alone_is():
    # A ring written on thin paper, and beside it a ring on the back of the page showing through,
    # blurred by the paper and 0.3 as dark: the one is ink, the other paper. Written alone, as a
    # faint pencil, the blurred ring is the ink.
    y, x = np.mgrid[:160, :320]
    ring = np.abs(np.hypot(x - 100, y - 80) - 40) < 4
    behind = np.exp(-((np.hypot(x - 220, y - 80) - 40) / 5) ** 2)
    ink, removed = paper.find_ink(torch.from_numpy(0.9 - 0.75 * ring - 0.3 * 0.75 * behind).float(), margin=10)
    inside, far = ink[10:-10, 10:-10], torch.from_numpy(behind > 0.05)
    assert (inside[torch.from_numpy(ring)] > 0.5).float().mean() > 0.9 and inside[far].max() == 0
    assert removed[10:-10, 10:-10][torch.from_numpy(behind > 0.5)].all()  # --save-processed shows it as paper
    alone, _ = paper.find_ink(torch.from_numpy(0.9 - 0.3 * 0.75 * behind).float(), margin=10)
    assert (alone[10:-10, 10:-10][torch.from_numpy(behind > 0.5)] > 0.5).float().mean() > 0.9


def test_the_lines_of_a_page_on_a_table_are_as_long_as_the_page_is_wide():
    # A page whose ruled lines are dashed, on a dark table that fills a third of the photo's width:
    # the lines cover half of the page's width, not 40% of the photo's. They are print all the same.
    y, x = np.mgrid[:300, :600]
    page = (np.abs(x - 300) < 186) & (np.abs(y - 150) < 140)
    dashes = (y % 30 == 0) & (x % 10 < 5) & page
    ring = np.abs(np.hypot(x - 300, y - 150) - 60) < 4
    pixels = np.where(page, 0.85, 0.15) - 0.7 * dashes - 0.75 * ring
    ink, _ = paper.find_ink(torch.from_numpy(pixels).float(), margin=10)
    inside = ink[10:-10, 10:-10]
    assert (inside[torch.from_numpy(ring)] > 0.1).float().mean() > 0.9  # the ring is ink
    assert inside[torch.from_numpy(dashes & (np.abs(y - 150) > 70))].max() == 0  # the lines away from it are not


def test_a_large_blank_picture_is_no_digit_found():
    # Shrunk to the working size, a blank page is not quite one shade (differences of a millionth,
    # from the resizing): too little spread for the 64 levels of a histogram, and no digit.
    with pytest.raises(images.ImageError, match="no digit found"):
        prepare.prepare_digits(Image.new("L", (3000, 2000), 255))
