"""segment.py on ink drawn here, pixel by pixel: which parts are the table, which make one digit.
(The marks among digits: test_separators.py; whole pictures, read by the network: test_numbers.py and
test_reading.py.)"""

import torch

import segment


def parts_of(ink: torch.Tensor, margin: int = 20):
    """The parts of `ink` that off_the_edges keeps, with their boxes (a pixel wider all round than
    the ink: find_parts grows it by one to join broken strokes)."""
    labels, boxes, mass = segment.find_parts(ink)
    return labels, boxes, mass, segment.off_the_edges(labels, boxes, mass, margin)


def test_a_corner_of_the_table_is_dropped_and_a_digit_at_the_edge_kept():
    # A page photographed turned on a dark table: a solid corner of the table comes into the
    # picture, near its edge but along little of it, and a soft shade along the page's edge, much
    # fainter than the pen. A 1 cut by the picture's edge is as near.
    ink = torch.zeros(200, 200)
    y, x = torch.meshgrid(torch.arange(200), torch.arange(200), indexing="ij")
    ink[x + y < 80] = 1                           # the table's corner, top left
    ink[60:140, 100:106] = 1                      # a 1 in the middle
    ink[120:200, 180:186] = 1                     # a 1 cut by the bottom edge
    ink[40:100, 192:197] = 0.45                   # the soft shade along the page's edge, at the right
    labels, boxes, mass, kept = parts_of(ink)
    assert sorted(boxes[k, 1] for k in kept) == [99, 179]
    ink[40:100, 192:197] = 1                      # a stroke as dark as the others there is kept
    labels, boxes, mass, kept = parts_of(ink)
    assert sorted(boxes[k, 1] for k in kept) == [99, 179, 191]
    ink[x + y < 80] = 0
    ink[40:100, 192:197] = 0
    ink[5:45, 5:11] = 1                           # a stroke there instead of the table is kept
    labels, boxes, mass, kept = parts_of(ink)
    assert sorted(boxes[k, 1] for k in kept) == [4, 99, 179]


def test_a_bold_digit_cropped_to_the_edge_is_no_table():
    # A 0 written boldly, its top on the picture's edge, where the pen paused and left a blot: worn
    # away by a stroke's width, something of the blot is left, as of a table's corner. But a 0
    # fills little of its box, and meets the edge over less than two strokes' width: it is kept,
    # beside a 1 in the middle, whether the blot is small or as broad as four strokes.
    ink = torch.zeros(120, 200)
    y, x = torch.meshgrid(torch.arange(120), torch.arange(200), indexing="ij")
    ring = (y - 45) ** 2 + (x - 60) ** 2
    ink[(ring < 25 ** 2) & (ring >= 20 ** 2)] = 1   # the 0, its top at the margin's edge
    ink[30:70, 120:125] = 1                          # a 1 in the middle
    for blot in (6, 10):                             # on the 0's left side
        ink[(y - 45) ** 2 + (x - 37) ** 2 < blot ** 2] = 1
        labels, boxes, mass, kept = parts_of(ink)
        assert sorted(boxes[k, 1] for k in kept) == [37 - blot, 119]  # the blot's left edge, a pixel out
    ink[20:45, 20:70] = 1                            # a solid corner of the table there instead is dropped
    labels, boxes, mass, kept = parts_of(ink)
    assert sorted(boxes[k, 1] for k in kept) == [119]


def test_a_bold_digit_in_line_with_others_in_a_tight_crop_is_no_table():
    # A number cropped tight to its ink: a 2 written with a broad pen, its base along the picture's
    # bottom edge, fills half its box, and where the pen paused at its corner it leaves a few pixels
    # when worn away, as a table's corner would. It stands beside a 1 as tall, on the same rows: a
    # digit, kept. A solid block there, as tall, is the table still.
    ink = torch.zeros(100, 200)
    y, x = torch.meshgrid(torch.arange(100), torch.arange(200), indexing="ij")
    ink[20:32, 20:60] = 1                                                  # the 2's top bar
    ink[(y >= 20) & (y < 80) & ((x + 0.6 * (y - 20) - 54).abs() < 6)] = 1  # its stroke down to the left
    ink[68:80, 20:60] = 1                                                  # its base, on the bottom edge
    ink[(y - 66) ** 2 + (x - 34) ** 2 < 14 ** 2] = 1                       # the blot at its corner
    ink[20:80, 100:112] = 1                                                # a 1 beside it
    labels, boxes, mass, kept = parts_of(ink)
    assert sorted(boxes[k, 1] for k in kept) == [12, 99]  # the 2's stroke reaches out to column 13
    ink[20:80, 20:60] = 1                                                  # a solid block instead
    labels, boxes, mass, kept = parts_of(ink)
    assert sorted(boxes[k, 1] for k in kept) == [99]


def test_a_digit_along_the_side_of_a_tight_crop_is_no_page_edge():
    # A number cropped tight to its ink: its first digit, a 1, runs down the whole of the left edge,
    # and the last one's stem down the right edge, as the page's edge would. Each stands in line with
    # the 0 between them, as tall and on the same rows: digits, kept. Where the writing is half as
    # tall as the picture, a band down its edge is the page's edge still.
    def number(top: int, height: int) -> torch.Tensor:
        ink = torch.zeros(height, 200)
        y, x = torch.meshgrid(torch.arange(height), torch.arange(200), indexing="ij")
        ink[top:top + 60, 20:28] = 1                                      # the 1, down the left edge
        ring = ((y - top - 30) / 30) ** 2 + ((x - 100) / 22) ** 2
        ink[(ring < 1) & (ring > 0.55)] = 1                               # the 0
        ink[top:top + 38, 140:148] = 1                                    # the 4's left stroke
        ink[top + 30:top + 38, 140:180] = 1                               # its bar
        ink[top:top + 60, 172:180] = 1                                    # its stem, down the right edge
        return ink
    labels, boxes, mass, kept = parts_of(number(20, 100))
    assert sorted(boxes[k, 1] for k in kept) == [19, 78, 139]
    ink = number(70, 200)
    ink[:, 20:28] = 0
    ink[20:180, 20:28] = 1                                                # the page's edge instead of the 1
    labels, boxes, mass, kept = parts_of(ink)
    assert sorted(boxes[k, 1] for k in kept) == [78, 139]


def test_the_shadow_of_a_note_on_a_light_desk_is_dropped_and_a_faint_digit_kept():
    # A note on a white desk, in the middle of the photo: the shadow it casts along its edge is a
    # soft band, far fainter than the pen, much longer than the digits are tall. It was read as a 1,
    # and its height made the digits beside it too small for digits.
    ink = torch.zeros(300, 300)
    ink[120:170, 100:106] = 1                     # a 1, 50 pixels tall
    ink[120:170, 130:160] = 0.9                   # a block of ink as heavy as a digit
    ink[60:240, 220:226] = 0.4                    # the shadow along the note's right edge
    labels, boxes, mass, kept = parts_of(ink)
    assert sorted(boxes[k, 1] for k in kept) == [99, 129]
    ink[60:240, 220:226] = 0.9                    # as dark as the pen: a stroke, kept
    labels, boxes, mass, kept = parts_of(ink)
    assert sorted(boxes[k, 1] for k in kept) == [99, 129, 219]
    ink[60:240, 220:226] = 0
    ink[110:170, 220:226] = 0.4                   # faint, but no longer than a digit: a faint 1, kept
    labels, boxes, mass, kept = parts_of(ink)
    assert sorted(boxes[k, 1] for k in kept) == [99, 129, 219]


def test_a_scrap_of_a_line_far_above_a_digit_is_no_part_of_it():
    # What is left of a notebook's line, a third of a digit's height above it, made the digit as
    # tall as that, and the digits beside it too short for digits. A 5's flag as far is its own.
    ink = torch.zeros(200, 200)
    ink[60:160, 96:104] = 1                       # a 1, 100 pixels tall
    ink[28:30, 95:101] = 1                        # a scrap of a line, 30 pixels above it
    labels, boxes, mass, kept = parts_of(ink)
    groups, specks = segment.group_parts(kept, boxes, mass, 200)
    assert [(g.top, g.bottom) for g in groups] == [(59, 161)] and len(specks) == 1
    ink[28:30, 95:101] = 0
    ink[26:32, 95:125] = 1                        # a flag, heavier
    labels, boxes, mass, kept = parts_of(ink)
    groups, specks = segment.group_parts(kept, boxes, mass, 200)
    assert [(g.top, g.bottom) for g in groups] == [(25, 161)]
