// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// picture-check: reads the pictures the CLI makes and the screenshots Chromium takes of them,
// and prints what is in them, for tests/host/pictures.sh to judge.
//
//   picture-check svg FILE             parse a standalone SVG; print its slots by state, list arrows, regions
//   picture-check html FILE            parse every inline <svg> of an HTML page; print their count and the totals
//   picture-check png FILE COLOUR...   count the pixels of each colour (#rrggbb, within 8 per channel)
//
// Exit status 1, with the parser's message, if a picture is not well-formed XML.

using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Xml;
using System.Xml.Linq;
using StbImageSharp;

internal static class Program
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private static int Main(string[] args)
    {
        try
        {
            switch (args)
            {
                case ["svg", var file]:
                    Console.WriteLine(Counts(XDocument.Parse(File.ReadAllText(file)).Root));
                    return 0;
                case ["html", var file]:
                    var svgs = Regex.Matches(File.ReadAllText(file), "<svg[ >].*?</svg>", RegexOptions.Singleline)
                        .Select(m => XElement.Parse(m.Value)).ToList();
                    Console.WriteLine($"svgs {svgs.Count} " + Counts(new XElement(Svg + "all", svgs)));
                    return 0;
                case ["png", var file, .. var colours]:
                    using (FileStream stream = File.OpenRead(file))
                    {
                        ImageResult image = ImageResult.FromStream(stream, ColorComponents.RedGreenBlue);
                        Console.Write($"size {image.Width}x{image.Height}");
                        foreach (string colour in colours)
                        {
                            int r = Convert.ToInt32(colour[1..3], 16), g = Convert.ToInt32(colour[3..5], 16), b = Convert.ToInt32(colour[5..7], 16);
                            long n = 0;
                            for (int i = 0; i + 2 < image.Data.Length; i += 3)
                                if (Math.Abs(image.Data[i] - r) <= 8 && Math.Abs(image.Data[i + 1] - g) <= 8 && Math.Abs(image.Data[i + 2] - b) <= 8)
                                    n++;
                            Console.Write($" {colour} {n}");
                        }
                        Console.WriteLine();
                    }
                    return 0;
                default:
                    Console.Error.WriteLine("usage: picture-check svg FILE | html FILE | png FILE COLOUR...");
                    return 2;
            }
        }
        catch (XmlException e)
        {
            Console.WriteLine($"not well-formed: {e.Message}");
            return 1;
        }
    }

    // "slots N in-use A cpu-free B slab-free C links L regions R"
    private static string Counts(XElement root)
    {
        var rects = root.Descendants(Svg + "rect").ToList();
        int Class(string c) => rects.Count(r => ((string)r.Attribute("class") ?? "").Split(' ').Contains(c));
        int links = root.Descendants(Svg + "path").Count(p => (string)p.Attribute("class") == "link");
        return $"slots {Class("slot")} in-use {Class("in-use")} cpu-free {Class("cpu-free")} slab-free {Class("slab-free")} links {links} regions {Class("region")}";
    }
}
