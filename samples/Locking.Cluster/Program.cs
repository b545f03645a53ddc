Console.WriteLine("Locking cluster sample: under construction.");
return 0;
